"""deploy/kafka/kafka.sh hands values that may begin with "-" to tools so none reads as an option.

One random KRaft cluster id in 64 begins with "-" (URL-safe base64); `kafka-storage format -t <id>`
then failed with "argument --cluster-id/-t: expected one argument", so one broker start in 64
failed. The script now hands every value over as `--opt=value`.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from xinfang.devtools.broker import free_port, repo_root

SCRIPT = repo_root() / "deploy" / "kafka" / "kafka.sh"
pytestmark = pytest.mark.integration


def _format(state: Path, cluster_id: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "XINFANG_KAFKA_STATE": str(state),
        "XINFANG_KAFKA_PORT": str(free_port()),
        "XINFANG_KAFKA_CONTROLLER_PORT": str(free_port()),
        "XINFANG_KAFKA_CLUSTER_ID": cluster_id,
    }
    return subprocess.run(
        ["bash", str(SCRIPT), "format"], env=env, capture_output=True, text=True, timeout=120
    )


def test_cluster_id_beginning_with_a_dash_formats(tmp_path: Path) -> None:
    cluster_id = "-RwenUNmhwiNeYLS5J8P2g"  # the id that failed a CI run
    done = _format(tmp_path / "state", cluster_id)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip().splitlines()[-1] == cluster_id
    meta = (tmp_path / "state" / "data" / "meta.properties").read_text()
    assert f"cluster.id={cluster_id}" in meta.splitlines()


def test_malformed_cluster_id_is_refused_before_the_tool_runs(tmp_path: Path) -> None:
    done = _format(tmp_path / "state", "--help")
    assert done.returncode != 0
    assert "XINFANG_KAFKA_CLUSTER_ID" in done.stderr
    assert not (tmp_path / "state" / "data" / "meta.properties").exists()


def test_state_folder_keeps_the_security_mode_it_was_formatted_with(tmp_path: Path) -> None:
    """A plaintext state folder is not silently reused as a secured one (its brokers would have
    no SCRAM users): kafka.sh refuses and says how to get out."""
    state = tmp_path / "state"
    env = {
        **os.environ,
        "XINFANG_KAFKA_STATE": str(state),
        "XINFANG_KAFKA_PORT": str(free_port()),
        "XINFANG_KAFKA_SECURITY": "plaintext",
    }
    run = ["bash", str(SCRIPT), "format"]
    done = subprocess.run(run, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert not (state / "credentials").exists()
    env["XINFANG_KAFKA_SECURITY"] = "sasl_ssl"
    done = subprocess.run(run, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert "security=plaintext" in done.stderr and "reset" in done.stderr
    assert not (state / "credentials").exists()  # nothing created for the refused mode
