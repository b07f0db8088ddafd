"""All numba code of mlearn lives in this package (see DESIGN.md, "Kernels")."""
