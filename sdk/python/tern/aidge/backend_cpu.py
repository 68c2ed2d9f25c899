"""aidge_backend_cpu under Tern: importing it makes sure Tern's "cpu" backend loads.

In AIDGE, `import aidge_backend_cpu` registers the CPU kernels. Tern loads its "cpu" plugin
(oneDNN and native kernels) by name; this module loads it at import, so that a missing or
unusable plugin fails here, with Tern's reason, as a missing AIDGE backend would.
"""
from __future__ import annotations


import tern

from .core import unsupported_names

__all__ = ["backend"]

try:
    #: Tern's loaded "cpu" backend (tern.Backend): backend.set_num_threads(n) sets its threads.
    backend = tern.load_backend("cpu")
except tern.Error as error:
    raise ImportError(f"tern.aidge.backend_cpu: Tern's cpu backend cannot be loaded: {error}") from error


__getattr__ = unsupported_names("aidge_backend_cpu")
