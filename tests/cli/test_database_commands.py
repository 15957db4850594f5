from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import make_url

from storage.migrate import head_revision
from tests.cli.conftest import Collabbot, assert_clean_failure

HEAD = head_revision()


def test_db_upgrade_creates_the_schema_and_is_safe_to_run_again(collabbot: Collabbot) -> None:
    first = collabbot.ok("db", "upgrade")
    second = collabbot.ok("db", "upgrade")

    assert f"Created the database schema at revision {HEAD}" in first.stdout
    assert f"already at revision {HEAD}" in second.stdout


def test_db_current_says_what_to_run_and_creates_nothing(collabbot: Collabbot) -> None:
    database = Path(str(make_url(collabbot.url).database))

    before = collabbot("db", "current", "--check")
    collabbot.ok("db", "upgrade")
    after = collabbot.ok("db", "current", "--check")

    assert before.exit_code == 1
    assert "collabbot db upgrade" in before.stdout
    assert f"up to date (schema revision {HEAD})" in after.stdout
    assert database.exists()


def test_commands_on_a_database_never_created_say_to_run_db_upgrade(
    collabbot: Collabbot,
) -> None:
    result = collabbot("operator", "add", "telegram:1")

    assert_clean_failure(result, "no database", "collabbot db upgrade")
    assert not Path(str(make_url(collabbot.url).database)).exists()


def test_an_unreachable_database_is_named_without_its_password() -> None:
    unreachable = Collabbot("postgresql+asyncpg://owner:s3cret@127.0.0.1:1/marketplace")

    result = unreachable("operator", "add", "telegram:1")

    assert_clean_failure(result, "Cannot reach the database", "owner:***@127.0.0.1:1")
    assert "s3cret" not in result.output


def test_a_sqlite_file_in_a_missing_folder_is_explained(tmp_path: Path) -> None:
    nowhere = Collabbot(f"sqlite+aiosqlite:///{tmp_path}/missing/folder/db.sqlite3")

    result = nowhere("db", "upgrade")

    assert_clean_failure(result, "does not exist")


def test_a_database_url_of_another_kind_is_refused_before_connecting() -> None:
    result = Collabbot("mysql://root@localhost/shop")("db", "upgrade")

    assert_clean_failure(result, "COLLABBOT_DATABASE_URL must start with sqlite+aiosqlite://")
