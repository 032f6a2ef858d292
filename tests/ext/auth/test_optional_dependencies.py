"""PyJWT and argon2 stay optional: importing dyne or dyne.ext.auth loads
neither, and using a helper without them names the extra to install."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=60)


def test_importing_loads_no_optional_library():
    result = run_python("""
        import sys
        import dyne
        assert "dyne.ext.auth" not in sys.modules
        import dyne.ext.auth
        from dyne.ext.auth import authenticate, BasicAuth, LoginManager, hash_password, JWT
        loaded = sorted({name.split(".")[0] for name in sys.modules} & {"jwt", "argon2"})
        print(",".join(loaded) or "none")
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "none"


def test_missing_libraries_raise_an_import_error_naming_the_extra():
    result = run_python("""
        import sys
        sys.modules["jwt"] = None      # as if PyJWT were not installed
        sys.modules["argon2"] = None   # as if argon2-cffi were not installed
        import dyne
        from dyne.ext.auth import BasicAuth, LoginManager, JWT, hash_password, authenticate

        app = dyne.App(secret_key="x" * 32)
        auth = LoginManager(app)        # session auth works without them
        backend = BasicAuth()
        backend.verify_password(lambda user, password: user)

        @app.route("/")
        @authenticate(backend)
        def home(req, resp):
            resp.text = "in"

        assert app.client.get("/", auth=("a", "b")).text == "in"
        for attempt in (lambda: hash_password("pw"), lambda: JWT("secret")):
            try:
                attempt()
            except ImportError as exc:
                print(exc)
            else:
                raise AssertionError("no ImportError")
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        'Password hashing needs argon2-cffi: pip install "dyne[auth]"',
        'JSON Web Tokens needs PyJWT: pip install "dyne[auth]"',
    ]
