% Expected metric values from the MATLAB toolbox (../shared/reference/fusion-metrics-matlab),
% run under GNU Octave 7.3 + image package. Usage (from the repository root):
%   python reference/tang/make_cases.py /tmp/metrics_ref
%   octave --no-gui -q reference/tang/run_reference.m /tmp/metrics_ref reference/tang/expected.csv [check]
%   python reference/tang/make_cases.py --ssim /tmp/metrics_ssim
%   octave --no-gui -q reference/tang/run_reference.m /tmp/metrics_ssim reference/tang/expected_ssim.csv ssim
% Metric names are those of res2netfuse.metrics under the paper's convention (analysis_Reference.m:
% im2double images for Qabf, Nabf, SSIM); *_toolbox rows are the same functions on [0,255]
% doubles; SSIM_a_wang is Wang's ssim_index.m. The toolbox functions are called unchanged (uint8
% for MI, as the wrapper does), except where the loop code is too slow or cannot run in Octave:
%   * FMI: fmi_vec below is analysis_fmi.m with its per-window loop vectorised over windows
%     (same 81-cell joint pdf); dct2 via the orthonormal DCT matrix (Octave has no dct2);
%     'wavelet' uses dwt2_sym with PyWavelets' 62-tap 'dmey' (Octave has no 'dmey').
%   * MEF-SSIM: mef_ssim_vec is mef_ssim.m with the loop over window positions swapped for a
%     loop over the 121 offsets; ms_vec is analysis_ms_ssim.m calling it.
%   * SSIM: Octave has no ssim. ssim_matlab is MATLAB's documented ssim algorithm (defaults:
%     Gaussian 11x11 sigma 1.5 weights, imfilter 'replicate' at full size, C1 = (0.01 L)^2,
%     C2 = (0.03 L)^2, C3 = C2/2, unit exponents, mean of the whole map; L = 1 for doubles),
%     called as analysis_Reference.m does: ssim(im2double(F), im2double(X)). ssim_wang is Wang
%     et al.'s ssim_index.m (L = 255, mean over the 'valid' map).
%   * Qabf, Nabf: qabf_vec / nabf_vec are analysis_Qabf.m / analysis_nabf.m with the pixel
%     loops written element-wise (the loop code takes minutes per 768x576 image in Octave),
%     summing in the loop code's order: on [0,1] input their exact-zero and equality tests see
%     last-bit rounding (Qabf's conv2 is Octave's; sobel_fn.m's sum(sum(.)) is spelled out).
% With the extra argument 'check', the vectorised versions are compared with the loop code
% (for ssim_matlab: a direct per-pixel loop over the documented formula) on small crops and
% the differences written to <out>.check.csv. With 'ssim', only SSIM_a and SSIM_a_wang are
% computed (for many more real triples).
1;
pkg load image
warning('off', 'all');
args = argv();
ref_dir = fullfile(fileparts(mfilename('fullpath')), '..', '..', '..', 'shared', 'reference', 'fusion-metrics-matlab');
if ~exist(ref_dir, 'dir')
  ref_dir = '../shared/reference/fusion-metrics-matlab';
end
addpath(ref_dir);

function D = dct_matrix(n)
  [k, m] = ndgrid(0:n-1, 0:n-1);
  D = sqrt(2 / n) * cos(pi * (2 * m + 1) .* k / (2 * n));
  D(1, :) = sqrt(1 / n);
end

function y = dct2_ortho(x)
  y = dct_matrix(rows(x)) * x * dct_matrix(columns(x))';
end

function y = dct2(x)
  % Octave 7 has no dct2; analysis_fmi.m's 'dct' feature calls this one
  y = dct2_ortho(x);
end

function y = dwt_dim1(x, f)
  % MATLAB dwt with 'sym' extension along dim 1: extend by L-1 (half-point symmetric),
  % 'valid' convolution, keep the even (1-based) samples.
  L = numel(f); n = rows(x);
  idx = [L-1:-1:1, 1:n, n:-1:n-L+2];
  z = conv2(x(idx, :), f(:), 'valid');
  y = z(2:2:end, :);
end

function [a, h, v, d] = dwt2_sym(x, lo, hi)
  zl = dwt_dim1(x', lo)'; zh = dwt_dim1(x', hi)';
  a = dwt_dim1(zl, lo); h = dwt_dim1(zl, hi);
  v = dwt_dim1(zh, lo); d = dwt_dim1(zh, hi);
end

function y = rerange(x)
  if max(x(:)) == min(x(:)) y = ones(size(x)); else y = (x - min(x(:))) / (max(x(:)) - min(x(:))); end
end

function y = minmax_rows(x)
  lo = min(x, [], 2); hi = max(x, [], 2);
  y = (x - lo) ./ (hi - lo);
  y(hi == lo, :) = 1;
end

function fmi = fmi_pair(x, fn)
  % analysis_fmi.m's per-window computation for one source, all windows (rows) at once
  l = 9; P = rows(x);
  xn = minmax_rows(x);
  xp = xn ./ sum(xn, 2); fp = fn ./ sum(fn, 2);
  xc = cumsum(xp, 2); fc = cumsum(fp, 2);
  xt = xp - mean(xp, 2); ft = fp - mean(fp, 2);
  s = sum(xt .* ft, 2);
  c = s ./ sqrt(sum(xt .* xt, 2) .* sum(ft .* ft, 2)); c(s == 0) = 0;
  i = 1:l;
  ex = xp * i'; ef = fp * i';
  sdx = sqrt(xp * (i .^ 2)' - ex .^ 2); sdf = sqrt(fp * (i .^ 2)' - ef .^ 2);
  covUp = zeros(P, 1); covLo = zeros(P, 1);
  for ii = 1:l
    for jj = 1:l
      covUp += 0.5 * (fc(:, ii) + xc(:, jj) - abs(fc(:, ii) - xc(:, jj))) - fc(:, ii) .* xc(:, jj);
      covLo += 0.5 * (fc(:, ii) + xc(:, jj) - 1 + abs(fc(:, ii) + xc(:, jj) - 1)) - fc(:, ii) .* xc(:, jj);
    end
  end
  pos = c >= 0;
  w = zeros(P, 1);
  ok = pos & ~(c == 0 | sdx == 0 | sdf == 0);
  w(ok) = c(ok) ./ (covUp(ok) ./ (sdf(ok) .* sdx(ok)));
  ok = ~pos & ~(sdx == 0 | sdf == 0);
  w(ok) = c(ok) ./ (covLo(ok) ./ (sdf(ok) .* sdx(ok)));
  fc0 = [zeros(P, 1), fc]; xc0 = [zeros(P, 1), xc];
  up = @(u, v) 0.5 * (u + v - abs(u - v));
  lo = @(u, v) 0.5 * (u + v - 1 + abs(u + v - 1));
  J = zeros(P, 1);
  for ii = 1:l
    for jj = 1:l
      cu = up(fc0(:, ii+1), xc0(:, jj+1)) - up(fc0(:, ii), xc0(:, jj+1)) - up(fc0(:, ii+1), xc0(:, jj)) + up(fc0(:, ii), xc0(:, jj));
      cl = lo(fc0(:, ii+1), xc0(:, jj+1)) - lo(fc0(:, ii), xc0(:, jj+1)) - lo(fc0(:, ii+1), xc0(:, jj)) + lo(fc0(:, ii), xc0(:, jj));
      if ii == 1 || jj == 1  % the loop code uses the bound itself on the first row/column
        cl = lo(fc(:, ii), xc(:, jj)) - (ii > 1) * lo(fc0(:, ii), xc(:, jj)) - (jj > 1) * lo(fc(:, ii), xc0(:, jj));
      end
      b = cu; b(~pos) = cl(~pos);
      jp = w .* b + (1 - w) .* fp(:, ii) .* xp(:, jj);
      t = real(-jp .* log2(jp)); t(jp == 0) = 0;
      J += t;
    end
  end
  hx = -xp .* log2(xp); hx(xp == 0) = 0; hx = sum(hx, 2);
  hf = -fp .* log2(fp); hf(fp == 0) = 0; hf = sum(hf, 2);
  mi = hx + hf - J;
  fmi = 2 * mi ./ (hx + hf); fmi(mi == 0) = 0;
end

function v = fmi_vec(ima, imb, imf, feature, filters)
  switch feature
    case 'none'
      A = ima; B = imb; F = imf;
    case 'dct'
      A = dct2_ortho(ima); B = dct2_ortho(imb); F = dct2_ortho(imf);
    case 'wavelet'
      [a, h, vv, d] = dwt2_sym(ima, filters(1, :), filters(2, :)); A = rerange([a, h; vv, d]);
      [a, h, vv, d] = dwt2_sym(imb, filters(1, :), filters(2, :)); B = rerange([a, h; vv, d]);
      [a, h, vv, d] = dwt2_sym(imf, filters(1, :), filters(2, :)); F = rerange([a, h; vv, d]);
  end
  a = im2col(A, [3 3], 'sliding')'; b = im2col(B, [3 3], 'sliding')'; f = im2col(F, [3 3], 'sliding')';
  fn = minmax_rows(f);
  eq_a = all(a == f, 2);
  faf = fmi_pair(a, fn); faf(eq_a) = 1;
  fcmp = f; fcmp(~eq_a, :) = fn(~eq_a, :);   % the loop code tests B against the already normalised F
  eq_b = all(b == fcmp, 2);
  fbf = fmi_pair(b, fn); fbf(eq_b) = 1;
  v = mean((faf + fbf) / 2);
end

function Q = mef_ssim_vec(seq, fI)
  K = 0.03; win = fspecial('gaussian', 11, 1.5); wS = 11; bd = 5;
  [s1, s2, s3] = size(seq);
  H = s1 - 2 * bd; W = s2 - 2 * bd;
  sWindow = ones(wS) / wS ^ 2;
  mu = zeros(H, W, s3); ed = zeros(H, W, s3);
  for k = 1:s3
    img = seq(:, :, k);
    mu(:, :, k) = filter2(sWindow, img, 'valid');
    sigmaSq = filter2(sWindow, img .* img, 'valid') - mu(:, :, k) .^ 2;
    ed(:, :, k) = sqrt(max(wS ^ 2 * sigmaSq, 0)) + 0.001;
  end
  S = sum(seq, 3);
  sumS = zeros(H, W);
  for u = 0:wS-1 for v = 0:wS-1 sumS += S(1+u:H+u, 1+v:W+v); end end
  muS = sumS / wS ^ 2;
  num = zeros(H, W); den = zeros(H, W, s3);
  for u = 0:wS-1
    for v = 0:wS-1
      num += (S(1+u:H+u, 1+v:W+v) - muS) .^ 2;
      den += (seq(1+u:H+u, 1+v:W+v, :) - mu) .^ 2;
    end
  end
  R = (sqrt(num) + eps) ./ (sum(sqrt(den), 3) + eps);
  R(R > 1) = 1 - eps; R(R < 0) = 0 + eps;
  p = tan(pi / 2 * R); p(p > 10) = 10;
  wMap = (ed / wS) .^ repmat(p, [1, 1, s3]) + eps;
  wMap = wMap ./ repmat(sum(wMap, 3), [1, 1, s3]);
  maxEd = max(ed, [], 3);
  C = (K * 255) ^ 2;
  rblock = @(u, v) sum(wMap .* (seq(1+u:H+u, 1+v:W+v, :) - mu) ./ ed, 3);
  rn2 = zeros(H, W);
  for u = 0:wS-1 for v = 0:wS-1 rn2 += rblock(u, v) .^ 2; end end
  rn = sqrt(rn2); scale = ones(H, W); scale(rn > 0) = maxEd(rn > 0) ./ rn(rn > 0);
  mu1 = zeros(H, W); mu2 = zeros(H, W);
  for u = 0:wS-1
    for v = 0:wS-1
      g = win(u+1, v+1);
      mu1 += g * rblock(u, v) .* scale; mu2 += g * fI(1+u:H+u, 1+v:W+v);
    end
  end
  sg1 = zeros(H, W); sg2 = zeros(H, W); sg12 = zeros(H, W);
  for u = 0:wS-1
    for v = 0:wS-1
      g = win(u+1, v+1);
      r = rblock(u, v) .* scale - mu1; f = fI(1+u:H+u, 1+v:W+v) - mu2;
      sg1 += g * r .^ 2; sg2 += g * f .^ 2; sg12 += g * r .* f;
    end
  end
  Q = mean(((2 * sg12 + C) ./ (sg1 + sg2 + C))(:));
end

function oQ = ms_vec(seq, fI)
  % analysis_ms_ssim.m (level 3, default weights) with mef_ssim_vec
  weight = [0.0448 0.2856 0.3001]'; weight = weight / sum(weight);
  Q = zeros(3, 1);
  for l = 1:3
    Q(l) = mef_ssim_vec(seq, fI);
    if l < 3
      nseq = [];
      for i = 1:size(seq, 3)
        dI = imfilter(seq(:, :, i), ones(2) ./ 4, 'symmetric', 'same');
        nseq(:, :, i) = dI(1:2:end, 1:2:end);
      end
      seq = nseq;
      dI = imfilter(fI, ones(2) ./ 4, 'symmetric', 'same'); fI = dI(1:2:end, 1:2:end);
    end
  end
  oQ = prod(Q .^ weight);
end

function [g, a] = qabf_grad(p)
  h1 = [1 2 1; 0 0 0; -1 -2 -1]; h3 = [-1 0 1; -2 0 2; -1 0 1];
  Sx = conv2(p, h3, 'same'); Sy = conv2(p, h1, 'same');
  g = sqrt(Sx .^ 2 + Sy .^ 2); a = atan(Sy ./ Sx); a(Sx == 0) = pi / 2;
end

function Q = qabf_pres(gX, aX, gF, aF)
  Tg = 0.9994; kg = -15; Dg = 0.5; Ta = 0.9879; ka = -22; Da = 0.8;
  G = gX ./ gF; G(gX > gF) = gF(gX > gF) ./ gX(gX > gF); G(gX == gF) = gF(gX == gF);
  AA = 1 - abs(aX - aF) / (pi / 2);
  Q = Tg ./ (1 + exp(kg * (G - Dg))) .* (Ta ./ (1 + exp(ka * (AA - Da))));
end

function out = qabf_vec(pA, pB, pF)
  % analysis_Qabf.m, element-wise
  [gA, aA] = qabf_grad(pA); [gB, aB] = qabf_grad(pB); [gF, aF] = qabf_grad(pF);
  out = sum(sum(qabf_pres(gA, aA, gF, aF) .* gA + qabf_pres(gB, aB, gF, aF) .* gB)) / sum(sum(gA + gB));
end

function s = sum_sum_3x3(xe, k)
  % sum(sum(xe(i-1:i+1, j-1:j+1) .* k)) at every interior (i, j), in sobel_fn.m's order (it
  % matters on [0,1] input): each column's three products summed top to bottom from 0, then the
  % three column sums left to right from 0
  [p, q] = size(xe); s = zeros(p - 2, q - 2);
  for dj = 1:3
    c = zeros(p - 2, q - 2);
    for di = 1:3
      c = c + xe(di:p-3+di, dj:q-3+dj) .* k(di, dj);
    end
    s = s + c;
  end
end

function [g, a] = nabf_grad(x)
  % sobel_fn.m: the /8 Sobel masks on the reflected image (per_extn_im_fn), sums as its loop does
  vtemp = [-1 0 1; -2 0 2; -1 0 1] / 8; htemp = [-1 -2 -1; -0 0 0; 1 2 1] / 8;
  xe = per_extn_im_fn(x, 3);
  gv = sum_sum_3x3(xe, vtemp); gh = sum_sum_3x3(xe, htemp);
  g = sqrt(gh .^ 2 + gv .^ 2); a = atan(gv ./ gh); a(gv == 0 & gh == 0) = 0;
end

function [Q, wt] = nabf_pres(gX, aX, gF, aF)
  Td = 2; wt_min = 0.001; Lg = 1.5; Nrg = 0.9999; kg = 19; sigmag = 0.5; Nra = 0.9995; ka = 22; sigmaa = 0.5;
  G = gX ./ gF; G(gX > gF) = gF(gX > gF) ./ gX(gX > gF); G(gX == 0 | gF == 0) = 0;
  AA = abs(abs(aX - aF) - pi / 2) * 2 / pi;
  Q = sqrt(Nrg ./ (1 + exp(-kg * (G - sigmag))) .* (Nra ./ (1 + exp(-ka * (AA - sigmaa)))));
  wt = wt_min * ones(size(gX)); wt(gX >= Td) = gX(gX >= Td) .^ Lg;
end

function NABF = nabf_vec(f, I1, I2)
  % analysis_nabf.m (its NABF output), element-wise
  [gA, aA] = nabf_grad(I1); [gB, aB] = nabf_grad(I2); [gF, aF] = nabf_grad(f);
  [QAF, wtA] = nabf_pres(gA, aA, gF, aF); [QBF, wtB] = nabf_pres(gB, aB, gF, aF);
  na = gF > gA & gF > gB;
  NABF = sum(sum(na .* ((1 - QAF) .* wtA + (1 - QBF) .* wtB))) / sum(sum(wtA + wtB));
end

function m = ssim_wang(x, y)
  w = fspecial('gaussian', 11, 1.5); C1 = (0.01 * 255) ^ 2; C2 = (0.03 * 255) ^ 2;
  mu1 = filter2(w, x, 'valid'); mu2 = filter2(w, y, 'valid');
  s1 = filter2(w, x .* x, 'valid') - mu1 .^ 2; s2 = filter2(w, y .* y, 'valid') - mu2 .^ 2;
  s12 = filter2(w, x .* y, 'valid') - mu1 .* mu2;
  m = mean2(((2 * mu1 .* mu2 + C1) .* (2 * s12 + C2)) ./ ((mu1 .^ 2 + mu2 .^ 2 + C1) .* (s1 + s2 + C2)));
end

function m = ssim_matlab(A, B)
  % MATLAB's ssim(A, B) for double images in [0, 1] with the documented defaults
  w = fspecial('gaussian', 11, 1.5); L = 1; C1 = (0.01 * L) ^ 2; C2 = (0.03 * L) ^ 2;
  mux = imfilter(A, w, 'replicate'); muy = imfilter(B, w, 'replicate');
  muxy = mux .* muy; mux2 = mux .^ 2; muy2 = muy .^ 2;
  sx2 = imfilter(A .^ 2, w, 'replicate') - mux2; sy2 = imfilter(B .^ 2, w, 'replicate') - muy2;
  sxy = imfilter(A .* B, w, 'replicate') - muxy;
  map = ((2 * muxy + C1) .* (2 * sxy + C2)) ./ ((mux2 + muy2 + C1) .* (sx2 + sy2 + C2));
  m = mean(map(:));
end

function m = ssim_matlab_loop(A, B)
  % the same algorithm written pixel by pixel: replicated borders, 11x11 Gaussian weights
  w = fspecial('gaussian', 11, 1.5); C1 = 0.01 ^ 2; C2 = 0.03 ^ 2; [h, wd] = size(A); total = 0;
  for i = 1:h
    for j = 1:wd
      ii = min(max((i-5:i+5)', 1), h); jj = min(max(j-5:j+5, 1), wd);
      x = A(ii, jj); y = B(ii, jj);
      mx = sum(sum(w .* x)); my = sum(sum(w .* y));
      vx = sum(sum(w .* x .^ 2)) - mx ^ 2; vy = sum(sum(w .* y .^ 2)) - my ^ 2;
      cxy = sum(sum(w .* x .* y)) - mx * my;
      total += ((2 * mx * my + C1) * (2 * cxy + C2)) / ((mx ^ 2 + my ^ 2 + C1) * (vx + vy + C2));
    end
  end
  m = total / (h * wd);
end

function emit(fid, name, metric, value, seconds)
  fprintf(fid, '%s,%s,%.17g,%.3f\n', name, metric, value, seconds);
  fflush(fid);
end

in_dir = args{1}; out_csv = args{2};
filters = load(fullfile(in_dir, 'dmey_filters.txt'));
cases = strsplit(strtrim(fileread(fullfile(in_dir, 'cases.txt'))), "\n");

if numel(args) > 2 && strcmp(args{3}, 'check')
  fid = fopen([out_csv(1:end-4) '.check.csv'], 'w');
  fprintf(fid, 'case,check,loop_code,vectorised\n');
  for ci = 1:numel(cases)
    name = strtrim(cases{ci});
    a = double(imread(fullfile(in_dir, [name '_a.png']))); b = double(imread(fullfile(in_dir, [name '_b.png'])));
    f = double(imread(fullfile(in_dir, [name '_f.png'])));
    r0 = floor(rows(a) / 2) - 24; c0 = floor(columns(a) / 2) - 24;
    A = a(r0+1:r0+48, c0+1:c0+47); B = b(r0+1:r0+48, c0+1:c0+47); F = f(r0+1:r0+48, c0+1:c0+47);
    fprintf(fid, '%s,FMI_dct,%.17g,%.17g\n', name, analysis_fmi(A, B, F, 'dct', 3), fmi_vec(A, B, F, 'dct', filters));
    fprintf(fid, '%s,FMI_pixel,%.17g,%.17g\n', name, analysis_fmi(A, B, F, 'none', 3), fmi_vec(A, B, F, 'none', filters));
    fprintf(fid, '%s,MS_SSIM,%.17g,%.17g\n', name, analysis_ms_ssim(cat(3, A, B), F), ms_vec(cat(3, A, B), F));
    fprintf(fid, '%s,Qabf_toolbox,%.17g,%.17g\n', name, analysis_Qabf(A, B, F), qabf_vec(A, B, F));
    fprintf(fid, '%s,Qabf,%.17g,%.17g\n', name, analysis_Qabf(A / 255, B / 255, F / 255), qabf_vec(A / 255, B / 255, F / 255));
    fprintf(fid, '%s,Nabf_toolbox,%.17g,%.17g\n', name, analysis_nabf(F, A, B), nabf_vec(F, A, B));
    fprintf(fid, '%s,Nabf,%.17g,%.17g\n', name, analysis_nabf(F / 255, A / 255, B / 255), nabf_vec(F / 255, A / 255, B / 255));
    fprintf(fid, '%s,SSIM_matlab,%.17g,%.17g\n', name, ssim_matlab_loop(F / 255, A / 255), ssim_matlab(F / 255, A / 255));
    fflush(fid);
  end
  fclose(fid);
  exit(0);
end

if numel(args) > 2 && strcmp(args{3}, 'ssim')
  fid = fopen(out_csv, 'w');
  fprintf(fid, 'case,metric,value\n');
  for ci = 1:numel(cases)
    name = strtrim(cases{ci});
    A = double(imread(fullfile(in_dir, [name '_a.png']))); B = double(imread(fullfile(in_dir, [name '_b.png'])));
    F = double(imread(fullfile(in_dir, [name '_f.png'])));
    fprintf(fid, '%s,SSIM_a,%.17g\n', name, (ssim_matlab(F / 255, A / 255) + ssim_matlab(F / 255, B / 255)) / 2);
    fprintf(fid, '%s,SSIM_a_wang,%.17g\n', name, (ssim_wang(F, A) + ssim_wang(F, B)) / 2);
    fflush(fid);
  end
  fclose(fid);
  exit(0);
end

fid = fopen(out_csv, 'w');
fprintf(fid, 'case,metric,value,seconds\n');
for ci = 1:numel(cases)
  name = strtrim(cases{ci});
  a = imread(fullfile(in_dir, [name '_a.png'])); b = imread(fullfile(in_dir, [name '_b.png']));
  f = imread(fullfile(in_dir, [name '_f.png']));
  A = double(a); B = double(b); F = double(f);
  tic; v = (ssim_matlab(F / 255, A / 255) + ssim_matlab(F / 255, B / 255)) / 2; emit(fid, name, 'SSIM_a', v, toc);
  tic; v = qabf_vec(A / 255, B / 255, F / 255); emit(fid, name, 'Qabf', v, toc);
  tic; v = fmi_vec(A, B, F, 'dct', filters); emit(fid, name, 'FMI_dct', v, toc);
  tic; v = fmi_vec(A, B, F, 'wavelet', filters); emit(fid, name, 'FMI_w', v, toc);
  tic; v = analysis_SCD(A, B, F); emit(fid, name, 'SCD', v, toc);
  tic; v = ms_vec(cat(3, A, B), F); emit(fid, name, 'MS_SSIM', v, toc);
  tic; v = entropy(f); emit(fid, name, 'EN', v, toc);
  tic; v = SD_evaluation(F); emit(fid, name, 'SD', v, toc);
  tic; v = SF_evaluation(F); emit(fid, name, 'SF', v, toc);
  tic; v = AG_evaluation(f); emit(fid, name, 'AG', v, toc);
  tic; v = MI_evaluation(a, b, f, 256); emit(fid, name, 'MI', v, toc);
  tic; v = vifp_mscale(A, F) + vifp_mscale(B, F); emit(fid, name, 'VIF', v, toc);
  tic; v = PSNR_evaluation(A, B, F); emit(fid, name, 'PSNR', v, toc);
  tic; v = CC_evaluation(A, B, F); emit(fid, name, 'CC', v, toc);
  tic; v = nabf_vec(F / 255, A / 255, B / 255); emit(fid, name, 'Nabf', v, toc);
  % the same functions on [0,255] doubles (convention "toolbox"), and Wang's SSIM
  tic; v = qabf_vec(A, B, F); emit(fid, name, 'Qabf_toolbox', v, toc);
  tic; v = nabf_vec(F, A, B); emit(fid, name, 'Nabf_toolbox', v, toc);
  tic; v = (ssim_wang(F, A) + ssim_wang(F, B)) / 2; emit(fid, name, 'SSIM_a_wang', v, toc);
end
fclose(fid);
