"""Command help is reflowed, so a terminal of any width wraps it once (etl/cli.py)."""

from etl.cli import app, db_app, reflowed


def test_paragraphs_become_lines_and_tables_keep_theirs():
    docstring = """Run the thing; exit 1 on failure.

        The marts are kept between builds
        and derived again per patient.

        \b
        PRRT_HOME   where data lives
                    (default ./data)
        """
    assert reflowed(docstring) == (
        "Run the thing; exit 1 on failure.\n\n"
        "The marts are kept between builds and derived again per patient.\n\n"
        "\b\nPRRT_HOME   where data lives\n            (default ./data)")


def test_every_command_help_is_reflowed():
    commands = [*app.registered_commands, *db_app.registered_commands]
    assert {c.callback.__name__ for c in commands} >= {"build", "nightly", "bench",
                                                      "db_upgrade"}
    for command in commands:
        paragraphs = command.help.split("\n\n")
        assert all("\n" not in p for p in paragraphs if not p.startswith("\b")), command.help
