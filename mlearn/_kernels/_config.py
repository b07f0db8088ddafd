"""Compilation flags shared by every kernel.

``FASTMATH`` leaves out ``nnan``/``ninf`` so NaN and infinity keep their meaning.
"""

FASTMATH = {"nsz", "arcp", "contract", "afn", "reassoc"}
SERIAL = dict(nogil=True, cache=True, fastmath=FASTMATH)
