"""Process swarm: 40 detached children started at import, which exit at once and are never
waited for. Unreaped, they would stay as zombies of the worker and fill the worker user's
process slots (RLIMIT_NPROC): BLAS threads and the next submission's worker would not start.
"""

import os as _os

for _ in range(40):
    try:
        if _os.fork() == 0:
            _os.setsid()
            _os._exit(0)
    except OSError:  # out of process slots: a student's code would just carry on
        break
