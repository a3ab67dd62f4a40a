"""Every script in examples/ runs to the end in its quick mode and prints what it promises."""
import os
import pathlib
import subprocess
import sys

import pytest

pytest.importorskip("sklearn")
pytest.importorskip("matplotlib")

REPO = pathlib.Path(__file__).parents[1]
EXAMPLES = sorted((REPO / "examples").glob("*.py"))
# What each example must print (and, for some, write); every other example must at least exit cleanly.
EXPECTED_OUTPUT = {
    "mlp_digits.py": ["epoch 2/2", "test accuracy"],
    "cnn_augmentation.py": ["without augmentation", "with augmentation", "test accuracy"],
    "fine_tuning.py": ["pre-training on digits 0-4", "fine-tuning the head on digits 5-9",
                       "frozen convolution weights unchanged: True; gradients never computed for them: True"],
    "compare_optimizers.py": ["SGD + momentum", "Nesterov", "Adagrad", "RMSprop", "AdamW", "-> compare_optimizers.png"],
    "compare_schedules.py": ["cosine", "one-cycle", "cyclic", "polynomial decay", "-> compare_schedules.png"],
}
EXPECTED_FILES = {"compare_optimizers.py": "compare_optimizers.png", "compare_schedules.py": "compare_schedules.png"}


def test_every_new_example_is_listed():
    assert set(EXPECTED_OUTPUT) <= {path.name for path in EXAMPLES}


@pytest.mark.parametrize("path", EXAMPLES, ids=[path.name for path in EXAMPLES])
def test_example_runs_in_quick_mode(path, tmp_path):
    env = {**os.environ, "GRADKIT_EXAMPLE_QUICK": "1", "PYTHONPATH": str(REPO), "MPLBACKEND": "Agg"}
    result = subprocess.run([sys.executable, str(path)], cwd=tmp_path, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip(), f"{path.name} printed nothing"
    for fragment in EXPECTED_OUTPUT.get(path.name, []):
        assert fragment in result.stdout, f"{path.name}: {fragment!r} not in\n{result.stdout}"
    if path.name in EXPECTED_FILES:
        assert (tmp_path / EXPECTED_FILES[path.name]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
