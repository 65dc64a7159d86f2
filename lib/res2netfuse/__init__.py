"""Res2NetFuse: a reproducible artifact of "Res2NetFuse: A Novel Res2Net-based Fusion Method for
Infrared and Visible Images" (Song et al.).

One concept per module; import what you need, e.g. ``from res2netfuse import pipeline, metrics``:
``model`` (the network, Table I), ``train``, ``reconstruction``, ``fusion`` (strategy registry),
``pipeline`` (load, encode, fuse, decode), ``baselines`` (DenseFuse from its released weights),
``io``, ``metrics`` (the fusion metrics, MATLAB-exact), ``evaluation``, ``stats``, ``claims``,
``paper`` (the paper's published numbers), ``datasets``, ``settings`` (``params.yaml``),
``report``, ``explorer``, the CLI ``res2netfuse`` (``cli``, ``commands``) and the DVC stage
runner ``stage``.
"""
