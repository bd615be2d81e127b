"""deploy/ec2/cloud-init.yaml (user data without CloudFormation): cloud-config that clones
f1pipe and runs install.sh, with the same stack settings as the template's user data."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[3]
CLOUD_INIT = ROOT / "deploy" / "ec2" / "cloud-init.yaml"
TEMPLATE = ROOT / "deploy" / "aws" / "f1pipe.yaml"


def settings_keys(content: str) -> set[str]:
    return set(re.findall(r"^\s*([A-Z0-9_]+)=", content, re.MULTILINE))


def test_cloud_config_clones_and_installs():
    text = CLOUD_INIT.read_text()
    assert text.startswith("#cloud-config\n")
    config = yaml.safe_load(text)
    assert {"git", "python3-venv", "openjdk-17-jre-headless"} <= set(config["packages"])
    [stack_env] = [f for f in config["write_files"] if f["path"] == "/etc/f1pipe/stack.env"]
    assert stack_env["permissions"] == "0640"
    assert config["runcmd"][0].startswith("git clone ")
    assert config["runcmd"][-1] == "/opt/f1pipe/src/deploy/ec2/install.sh"


def test_same_settings_as_the_templates_user_data():
    from cfnlint.decode import decode_str

    template, errors = decode_str(TEMPLATE.read_text())
    assert not errors
    user_data = template["Resources"]["Instance"]["Properties"]["UserData"]["Fn::Base64"]
    body = user_data["Fn::Sub"][0]
    ours = settings_keys(yaml.safe_load(CLOUD_INIT.read_text())["write_files"][0]["content"])
    assert ours <= settings_keys(body)
    assert "/opt/f1pipe/src/deploy/ec2/install.sh" in body
