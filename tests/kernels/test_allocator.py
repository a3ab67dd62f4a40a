import subprocess
import sys

from gradkit.kernels import allocator

CHECK = "import gradkit; from gradkit.kernels import allocator; print(allocator.keep_freed_memory())"


def _tuned_in_child(env_value=None):
    import os
    env = dict(os.environ)
    env.pop("GRADKIT_MALLOC", None)
    if env_value is not None:
        env["GRADKIT_MALLOC"] = env_value
    out = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, env=env, check=True)
    return out.stdout.strip()


def test_the_tuning_runs_once_and_reports_the_same_answer():
    first = allocator.keep_freed_memory()
    assert allocator.keep_freed_memory() is first
    assert isinstance(first, bool)


def test_glibc_is_tuned_unless_the_user_asks_for_the_system_allocator():
    tuned = _tuned_in_child()
    if sys.platform.startswith("linux"):
        assert tuned == "True"
    assert _tuned_in_child("system") == "False"
