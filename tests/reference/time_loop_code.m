% Seconds of the toolbox's own loop code on one triple (benchmarks/bench_metrics.py --loop-code).
% Usage: octave --no-gui -q time_loop_code.m <dir with case_{a,b,f}.png> <crop side>
% Qabf, Nabf, MI, VIF, SCD run on the whole image; analysis_fmi (dct) and analysis_ms_ssim run
% on a centred crop of <crop side> px, and the caller scales their time by the window count.
1;
pkg load image
warning('off', 'all');
args = argv();
addpath(fullfile(fileparts(mfilename('fullpath')), '..', '..', '..', 'shared', 'reference', 'fusion-metrics-matlab'));
addpath('../shared/reference/fusion-metrics-matlab');
function y = dct2(x)
  [k, m] = ndgrid(0:rows(x)-1, 0:rows(x)-1); D1 = sqrt(2 / rows(x)) * cos(pi * (2 * m + 1) .* k / (2 * rows(x))); D1(1, :) = sqrt(1 / rows(x));
  [k, m] = ndgrid(0:columns(x)-1, 0:columns(x)-1); D2 = sqrt(2 / columns(x)) * cos(pi * (2 * m + 1) .* k / (2 * columns(x))); D2(1, :) = sqrt(1 / columns(x));
  y = D1 * x * D2';
end
d = args{1}; n = str2double(args{2});
a = imread(fullfile(d, 'case_a.png')); b = imread(fullfile(d, 'case_b.png')); f = imread(fullfile(d, 'case_f.png'));
A = double(a); B = double(b); F = double(f);
tic; analysis_Qabf(A, B, F); printf('Qabf,full,%.3f\n', toc);
tic; analysis_nabf(F, A, B); printf('Nabf,full,%.3f\n', toc);
tic; MI_evaluation(a, b, f, 256); printf('MI,full,%.3f\n', toc);
r0 = floor((rows(A) - n) / 2); c0 = floor((columns(A) - n) / 2);
Ac = A(r0+1:r0+n, c0+1:c0+n); Bc = B(r0+1:r0+n, c0+1:c0+n); Fc = F(r0+1:r0+n, c0+1:c0+n);
tic; analysis_fmi(Ac, Bc, Fc, 'dct', 3); printf('FMI_dct,crop,%.3f\n', toc);
tic; analysis_ms_ssim(cat(3, Ac, Bc), Fc); printf('MS_SSIM,crop,%.3f\n', toc);
