"""The extension protocol (dyne.extensions): binding, registration, lifecycle, config."""

import pytest

import dyne
from dyne.config import ConfigError
from dyne.extensions import Extension, ExtensionError, get_extension, register_extension


class Counter(Extension):
    name = "counter"
    configs_name = "COUNTER"
    config_prefix = "COUNTER_"

    def __init__(self, app=None, **options):
        self.events = []
        self.setups = 0
        super().__init__(app, **options)

    def setup(self, app):
        self.setups += 1
        app.add_request_property("counter", lambda req: self)

    async def on_startup(self):
        self.events.append("startup")

    async def on_shutdown(self):
        self.events.append("shutdown")


def test_bound_at_construction_registers_once_and_runs_lifecycle():
    app = dyne.App()
    ext = Counter(app)
    ext.init_app(app)  # binding twice to the same app is harmless
    assert app.extensions["counter"] is ext
    assert ext.setups == 1

    @app.route("/", methods=["GET"])
    def view(req, resp):
        resp.media = {"same": req.counter is ext, "events": list(ext.events)}

    with app.client as client:
        assert client.get("/").json() == {"same": True, "events": ["startup"]}
    assert ext.events == ["startup", "shutdown"]


def test_factory_style_init_app():
    ext = Counter()
    assert ext.app is None
    with pytest.raises(ExtensionError, match="not bound to an app"):
        ext.require_app()
    app = dyne.App()
    ext.init_app(app)
    assert get_extension(app, "counter", Counter) is ext
    assert repr(ext) == "<Counter 'counter' bound>"


def test_one_instance_per_app_and_one_app_per_instance():
    app, other = dyne.App(), dyne.App()
    ext = Counter(app)
    with pytest.raises(ExtensionError, match=r"already taken by <Counter 'counter' bound>"):
        Counter(app)
    with pytest.raises(ExtensionError, match="already bound to another app"):
        ext.init_app(other)
    # A prefix makes a second, independent instance.
    second = Counter(app, variable_prefix="MY_")
    assert app.extensions["my_counter"] is second


def test_register_extension_and_get_extension_errors():
    app = dyne.App()
    marker = object()
    assert register_extension(app, marker, "thing") is True
    assert register_extension(app, marker, "thing") is False
    with pytest.raises(ExtensionError, match="already taken"):
        register_extension(app, object(), "thing")
    with pytest.raises(ExtensionError, match="No extension 'missing'"):
        get_extension(app, "missing")
    with pytest.raises(ExtensionError, match="not a Counter"):
        get_extension(app, "thing", Counter)


def test_a_subclass_without_name_is_refused():
    class Nameless(Extension):
        pass

    with pytest.raises(ExtensionError, match="must set the class attribute 'name'"):
        Nameless(dyne.App())


def test_config_section_then_prefixed_keys_then_default(monkeypatch):
    app = dyne.App()
    app.config["COUNTER"] = {"START": "5", "DEBUG": "off"}
    app.config["COUNTER_STEP"] = "2"
    ext = Counter(app)
    assert ext.config_section() == {"START": "5", "DEBUG": "off"}
    assert ext.config_value("START", cast=int) == 5
    assert ext.config_value("DEBUG", cast=bool) is False
    assert ext.config_value("STEP", cast=int) == 2
    assert ext.config_value("MISSING", 7) == 7
    monkeypatch.setenv("COUNTER_STEP", "3")  # the environment wins, as for all config
    assert ext.config_value("STEP", cast=int) == 3
    app.config["COUNTER"] = {"START": "five"}
    with pytest.raises(ConfigError, match=r"COUNTER\.START"):
        ext.config_value("START", cast=int)


def test_prefixed_instance_reads_its_own_keys():
    app = dyne.App()
    app.config["COUNTER_STEP"] = "1"
    app.config["MY_COUNTER_STEP"] = "9"
    assert Counter(app).config_value("STEP", cast=int) == 1
    assert Counter(app, variable_prefix="MY_").config_value("STEP", cast=int) == 9


def test_a_section_that_is_not_a_mapping_is_a_clear_error():
    app = dyne.App()
    app.config["COUNTER"] = "[1, 2]"
    ext = Counter(app)
    with pytest.raises(ConfigError, match="COUNTER"):
        ext.config_section()
