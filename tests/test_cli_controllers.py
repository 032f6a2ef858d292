"""CLI controllers (seed 002's ``CLIController``, ``@command``, ``@argument``):
run through the real ``dyne`` command in a subprocess, with the app loaded;
declaration mistakes fail at registration."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

import dyne
from dyne.cli import CLIController, argument, command

CONTROLLER = '''
from dyne.cli import CLIController, command, argument


class UtilityCLIController(CLIController):
    """A simple CLI utility controller."""

    @command("greet", help="Greet a user with a message.")
    @argument("name", arg_type=str, description="The name of the user to greet.")
    async def greet(self, name: str):
        """Greet by name."""
        print(f"Hello, {name}! Welcome to the CLI utility.")

    @command("add", help="Add two numbers.")
    @argument("a", arg_type=int, description="The first number.")
    @argument("b", arg_type=int, description="The second number.")
    async def add(self, a: int, b: int):
        """Add two numbers and print the result."""
        result = a + b
        print(f"The sum of {a} and {b} is {result}.")

    @command("scale")
    @argument("value", arg_type=float, description="A number.")
    @argument("factor", arg_type=float)
    def scale(self, value: float, factor: float = 2.0):
        """Multiply VALUE by FACTOR (2 by default)."""
        print(value * factor)

    @command("state", help="Show what the app's start-up prepared.")
    async def state(self):
        print(f"{self.app.config.APP_NAME}: ready={self.app.state.ready}")

    @command("offline", help="Runs without the app's start-up.", lifespan=False)
    async def offline(self):
        print(f"ready={getattr(self.app.state, 'ready', None)}")

    @command("fail", help="Raises.")
    async def fail(self):
        raise RuntimeError("the command failed")
'''

APP = '''
import dyne

app = dyne.App()
app.config["APP_NAME"] = "Utility"
app.add_cli_controller("tools:UtilityCLIController")


@app.on_event("startup")
async def prepare():
    app.state.ready = True
    print("startup ran")


@app.on_event("shutdown")
async def finish():
    print("shutdown ran")
'''


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli_project")
    (root / "tools.py").write_text(textwrap.dedent(CONTROLLER))
    (root / "app.py").write_text(textwrap.dedent(APP))
    return root


def dyne_cli(project, *args, env=None):
    import os

    environment = {key: value for key, value in os.environ.items()
                   if key not in ("DYNE_APP", "DEBUG")}
    return subprocess.run([sys.executable, "-m", "dyne", *args], cwd=project, capture_output=True,
                          text=True, timeout=120, env={**environment, **(env or {})})


def test_seed_commands_run_with_the_app_loaded(project):
    greeted = dyne_cli(project, "greet", "Ada")
    assert greeted.returncode == 0, greeted.stderr
    assert greeted.stdout == "startup ran\nHello, Ada! Welcome to the CLI utility.\nshutdown ran\n"
    added = dyne_cli(project, "--app", "app:app", "add", "2", "40")
    assert added.returncode == 0, added.stderr
    assert "The sum of 2 and 40 is 42." in added.stdout


def test_commands_see_the_app_and_its_startup(project):
    state = dyne_cli(project, "state")
    assert "Utility: ready=True" in state.stdout
    offline = dyne_cli(project, "offline")
    assert offline.stdout == "ready=None\n"


def test_float_arguments_and_optional_ones(project):
    assert dyne_cli(project, "scale", "1.5").stdout.splitlines()[1] == "3.0"
    assert dyne_cli(project, "scale", "1.5", "3").stdout.splitlines()[1] == "4.5"


def test_a_value_of_the_wrong_type_is_a_usage_error(project):
    result = dyne_cli(project, "add", "2", "two")
    assert result.returncode == 2
    assert "Invalid value for 'B': 'two' is not a valid integer." in result.stderr
    assert result.stdout == ""  # the app never started
    missing = dyne_cli(project, "add", "2")
    assert missing.returncode == 2
    assert "Missing argument 'B'." in missing.stderr


def test_an_unknown_command_is_a_usage_error(project):
    result = dyne_cli(project, "gret", "Ada")
    assert result.returncode == 2
    assert "No such command 'gret'." in result.stderr


def test_help_lists_the_commands_and_describes_their_arguments(project):
    listing = dyne_cli(project, "--help", env={"DYNE_APP": "app"})
    assert "greet" in listing.stdout and "Greet a user with a message." in listing.stdout
    help_text = dyne_cli(project, "add", "--help").stdout
    assert "dyne add [OPTIONS] A B" in help_text
    assert "A  The first number." in help_text and "B  The second number." in help_text


def test_a_failing_command_exits_with_an_error_after_shutdown(project):
    result = dyne_cli(project, "fail")
    assert result.returncode == 1
    assert "RuntimeError: the command failed" in result.stderr
    assert "shutdown ran" in result.stdout


def test_an_app_that_fails_to_load_is_reported(project, tmp_path):
    (tmp_path / "broken.py").write_text("import dyne\napp = dyne.App()\nraise KeyError('oops')\n")
    result = dyne_cli(tmp_path, "--app", "broken", "greet", "Ada")
    assert result.returncode == 2
    assert "No such command 'greet': the application failed to load (KeyError: 'oops')" \
        in result.stderr


def test_an_application_factory_is_loaded_once(tmp_path):
    (tmp_path / "tools.py").write_text(textwrap.dedent(CONTROLLER))
    (tmp_path / "factory.py").write_text(textwrap.dedent('''
        import dyne

        def create_app():
            print("factory called")
            app = dyne.App()
            app.add_cli_controller("tools:UtilityCLIController")
            return app
    '''))
    result = dyne_cli(tmp_path, "--app", "factory:create_app", "greet", "Bo")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "factory called\nHello, Bo! Welcome to the CLI utility.\n"


# -- registration -------------------------------------------------------------------------


def test_add_cli_controller_returns_the_instance_and_its_commands():
    from tests.test_cli_controllers import Tools

    app = dyne.App()
    controller = app.add_cli_controller(Tools)
    assert isinstance(controller, Tools) and controller.app is app
    assert sorted(app.cli_commands) == ["hello"]


class Tools(CLIController):
    @command("hello")
    async def hello(self):
        print("hello")


def test_declaration_errors():
    with pytest.raises(TypeError, match="arg_type must be int, float or str"):
        argument("when", arg_type=list)
    with pytest.raises(ValueError, match="@command needs a command name"):
        command("two words")
    with pytest.raises(ValueError, match="declared twice"):
        @argument("a")
        @argument("a")
        async def twice(self, a): ...


@pytest.mark.parametrize(("body", "message"), [
    ('@command("x")\n    @argument("nope")\n    async def x(self, a): ...',
     r"declares @argument\('nope'\) but has no parameter 'nope'"),
    ('@command("x")\n    async def x(self, a): ...',
     r"needs @argument\(\.\.\.\) for its parameter\(s\) a"),
    ('@command("x")\n    @argument("a", arg_type=int)\n    @argument("b")\n'
     '    async def x(self, a=1, b=""): ...\n'
     '    @command("y")\n    @argument("a", arg_type=int)\n    @argument("b")\n'
     '    async def y(self, a=1, b): ...', "SyntaxError"),
    ('@command("run")\n    async def run_(self): ...', "'run' is a built-in dyne command"),
    ('def helper(self): ...', "has no @command methods"),
])
def test_controller_errors_at_registration(body, message):
    source = f"class Bad(CLIController):\n    {body}\n"
    namespace = {"CLIController": CLIController, "command": command, "argument": argument}
    if message == "SyntaxError":
        with pytest.raises(SyntaxError):
            exec(source, namespace)
        return
    exec(source, namespace)
    with pytest.raises((TypeError, ValueError), match=message):
        dyne.App().add_cli_controller(namespace["Bad"])


def test_required_argument_after_optional_one_is_refused():
    class Bad(CLIController):
        @command("x")
        @argument("a", arg_type=int)
        @argument("b")
        async def x(self, b, a=1): ...

    with pytest.raises(TypeError, match="argument 'b' is required but follows an optional one"):
        dyne.App().add_cli_controller(Bad)


def test_duplicate_commands_and_non_controllers_are_refused():
    app = dyne.App()
    app.add_cli_controller(Tools)

    class Again(CLIController):
        @command("hello")
        async def other(self): ...

    with pytest.raises(ValueError, match="command 'hello' is already registered"):
        app.add_cli_controller(Again)
    with pytest.raises(TypeError, match=r"takes a dyne\.cli\.CLIController subclass"):
        app.add_cli_controller(object)  # type: ignore[arg-type]
    with pytest.raises(ImportError, match="cannot import module 'nowhere'"):
        app.add_cli_controller("nowhere:Tools")
