"""The element types archcalc knows: the one table of their sizes."""

#: bytes per element of each dtype a spec or ``--dtype`` may name
DTYPE_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2, "int8": 1, "float64": 8}
#: the dtypes the NumPy core runs (``verify``)
NUMERIC_DTYPES = ("float32", "float64")
