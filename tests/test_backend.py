import pytest

from gradkit import backend


def _cgroup(tmp_path, files):
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return str(tmp_path)


@pytest.mark.parametrize("files, expected", [
    ({"cpu.max": "max 100000\n"}, None),
    ({"cpu.max": "150000 100000\n"}, 2),
    ({"cpu.max": "100000 100000\n"}, 1),
    ({"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}, None),
    ({"cpu/cpu.cfs_quota_us": "250000\n", "cpu/cpu.cfs_period_us": "100000\n"}, 3),
    ({}, None),
    ({"cpu.max": "garbage\n"}, None),
], ids=["v2-none", "v2-1.5", "v2-1", "v1-none", "v1-2.5", "absent", "unreadable"])
def test_cgroup_quota_in_whole_cpus(tmp_path, files, expected):
    assert backend.cgroup_cpu_quota(_cgroup(tmp_path, files)) == expected


def test_available_cores_is_capped_by_the_quota(monkeypatch):
    monkeypatch.setattr(backend, "cgroup_cpu_quota", lambda: 1)
    assert backend.available_cores() == 1
    monkeypatch.setattr(backend, "cgroup_cpu_quota", lambda: None)
    assert backend.available_cores() >= 1
