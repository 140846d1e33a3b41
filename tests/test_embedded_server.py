import json
import os
import subprocess
import sys
from pathlib import Path

from db import embedded


def test_a_killed_runs_handle_is_forgotten_and_a_live_one_kept(tmp_path: Path) -> None:
    # given: the handle list of a server whose earlier owner was killed
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(finished.stdout)
    handles = tmp_path / ".handle_pids.json"
    handles.write_text(json.dumps([dead_pid, os.getpid()]))
    # when
    embedded._forget_dead_handles(tmp_path)
    # then: only the running process still holds the server
    assert json.loads(handles.read_text()) == [os.getpid()]
