"""``linkarchive doctor``: each backend checked for real, broken ones named with a fix."""

from __future__ import annotations

import json

from tests.conftest import free_port

KEY = "sk-test-doctor-key"
MODELS = (200, "application/json", json.dumps({"data": [{"id": "gpt-4o-mini"}]}).encode())


def checks(result) -> dict[str, dict[str, str]]:
    return {check["name"]: check for check in json.loads(result.stdout)}


def test_a_fresh_directory_is_healthy_and_says_what_is_missing(cli) -> None:
    fresh = checks(cli("doctor", "--json"))
    assert {name: c["status"] for name, c in fresh.items()} == {
        "settings": "ok", "database": "warn", "mailbox": "warn", "blob store": "warn",
        "redis": "ok", "model": "ok"}
    assert fresh["database"]["fix"].startswith("run `linkarchive migrate`")
    assert "offline tagger" in fresh["model"]["detail"]

    cli("migrate")
    migrated = cli("doctor")
    lines = migrated.stdout.splitlines()
    assert all(line.startswith("ok  ") for line in lines), migrated.stdout
    assert any("schema up to date" in line for line in lines)


def test_model_endpoint_is_really_asked(cli, cli_env, local_site) -> None:
    base = local_site({"/v1/models": MODELS}, needs_header=("Authorization", f"Bearer {KEY}"))
    cli("migrate")
    cli_env.update(LINKARCHIVE_OPENAI_BASE_URL=f"{base}/v1", LINKARCHIVE_OPENAI_API_KEY=KEY)
    assert checks(cli("doctor", "--json"))["model"] == {
        "name": "model", "status": "ok", "detail": f"{base}/v1 serves gpt-4o-mini", "fix": ""}

    cli_env["LINKARCHIVE_OPENAI_MODEL"] = "llama3"
    assert checks(cli("doctor", "--json"))["model"]["status"] == "warn"

    cli_env["LINKARCHIVE_OPENAI_API_KEY"] = "sk-wrong"
    refused = cli("doctor", check=False)
    assert refused.returncode == 1
    assert f"FAIL  model       {base}/v1 refused the API key (HTTP 401)" in refused.stdout
    assert "fix: set a valid LINKARCHIVE_OPENAI_API_KEY" in refused.stdout
    assert "sk-wrong" not in refused.stdout

    cli_env["LINKARCHIVE_OPENAI_BASE_URL"] = f"http://127.0.0.1:{free_port()}/v1"
    away = checks(cli("doctor", "--json", check=False))["model"]
    assert away["status"] == "fail" and "cannot be reached" in away["detail"]


def test_unreachable_backends_fail_with_what_to_fix(cli, cli_env) -> None:
    port = free_port()
    cli_env.update(LINKARCHIVE_DATABASE_URL=f"postgresql://archive:s3cret@127.0.0.1:{port}/db",
                   LINKARCHIVE_REDIS_URL=f"redis://127.0.0.1:{port}/0")
    result = cli("doctor", "--json", check=False)
    assert result.returncode == 1
    found = checks(result)
    assert found["database"]["status"] == "fail"
    assert "cannot connect to PostgreSQL" in found["database"]["detail"]
    assert found["mailbox"]["status"] == "fail" and found["redis"]["status"] == "fail"
    assert found["settings"]["status"] == "warn"  # several hosts need one shared secret
    assert "s3cret" not in result.stdout


def test_a_bad_setting_is_reported_not_raised(cli, cli_env) -> None:
    cli_env["LINKARCHIVE_PORT"] = "eighty"
    result = cli("doctor", check=False)
    assert result.returncode == 1
    assert result.stdout.startswith("FAIL  settings  LINKARCHIVE_PORT is invalid")
