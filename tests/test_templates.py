"""Jinja2 templates: app.template, template_string, async rendering, Templates."""

import asyncio

import jinja2
import pytest

import dyne
from dyne.templates import Templates


@pytest.fixture
def templates_dir(tmp_path):
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "hello.html").write_text("<p>Hello, {{ name }}!</p>")
    (folder / "plain.txt").write_text("Hello, {{ name }}!")
    (folder / "link.html").write_text('<a href="{{ url_for(\'user\', id=7) }}">user</a>')
    (folder / "base.html").write_text("<main>{% block body %}{% endblock %}</main>")
    (folder / "child.html").write_text('{% extends "base.html" %}{% block body %}{{ x }}{% endblock %}')
    (folder / "awaits.html").write_text("{{ fetch() }}:{% for i in items() %}{{ i }}{% endfor %}")
    return folder


def test_app_template_renders_files_from_templates_dir(templates_dir):
    app = dyne.App(templates_dir=templates_dir)

    @app.route("/hello/{name}")
    def hello(req, resp, *, name):
        resp.html = app.template("hello.html", name=name)

    response = app.client.get("/hello/<script>")
    assert response.text == "<p>Hello, &lt;script&gt;!</p>"
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert app.template("child.html", x="inherited") == "<main>inherited</main>"
    assert app.template("hello.html", {"name": "dict"}) == "<p>Hello, dict!</p>"


def test_autoescape_is_for_html_not_text(templates_dir):
    app = dyne.App(templates_dir=templates_dir)
    assert app.template("plain.txt", name="<b>") == "Hello, <b>!"
    assert app.template_string("<i>{{ v }}</i>", v="<b>") == "<i>&lt;b&gt;</i>"
    assert app.template_string("{{ v|safe }}", v="<b>") == "<b>"


def test_templates_default_to_the_templates_folder_of_the_working_directory(templates_dir,
                                                                            monkeypatch):
    monkeypatch.chdir(templates_dir.parent)
    assert dyne.App().template("hello.html", name="cwd") == "<p>Hello, cwd!</p>"


def test_url_for_is_available_in_templates(templates_dir):
    app = dyne.App(templates_dir=templates_dir)

    @app.route("/users/{id:int}")
    def user(req, resp, *, id):
        pass

    assert app.template("link.html") == '<a href="/users/7">user</a>'


def test_async_rendering_can_await(templates_dir):
    app = dyne.App(templates_dir=templates_dir)

    async def fetch():
        await asyncio.sleep(0)
        return "fetched"

    async def items():
        for i in range(3):
            yield i

    @app.route("/")
    async def index(req, resp):
        resp.html = await app.template_async("awaits.html", fetch=fetch, items=items)

    assert app.client.get("/").text == "fetched:012"
    rendered = asyncio.run(app.template_string_async("{{ a }}-{{ b() }}", a=1, b=fetch))
    assert rendered == "1-fetched"


def test_missing_template_is_a_clear_error(templates_dir):
    app = dyne.App(templates_dir=templates_dir)
    with pytest.raises(jinja2.TemplateNotFound, match=r"nope\.html"):
        app.template("nope.html")


def test_standalone_templates_with_context_and_filters(templates_dir):
    templates = Templates(directory=str(templates_dir), context={"site": "dyne"},
                          filters={"shout": lambda s: s.upper() + "!"})
    assert templates.render_string("{{ site|shout }}") == "DYNE!"
    templates.context["site"] = "changed"
    templates.filters["whisper"] = str.lower
    assert templates.render_string("{{ site|whisper }}") == "changed"
    assert asyncio.run(templates.render_string_async("{{ site|shout }}")) == "CHANGED!"
    assert templates.render("hello.html", name="x") == "<p>Hello, x!</p>"
    assert isinstance(templates.env, jinja2.Environment)
    assert templates.get_template("hello.html").name == "hello.html"


def test_enable_async_makes_render_awaitable(templates_dir):
    templates = Templates(directory=templates_dir, enable_async=True)

    async def render():
        return (await templates.render("hello.html", name="a"),
                await templates.render_string("{{ 1 + 1 }}"))

    assert asyncio.run(render()) == ("<p>Hello, a!</p>", "2")


def test_autoescape_can_be_turned_off(templates_dir):
    templates = Templates(directory=templates_dir, autoescape=False)
    assert templates.render("hello.html", name="<b>") == "<p>Hello, <b>!</p>"


def test_several_directories_are_searched_in_order(tmp_path, templates_dir):
    override = tmp_path / "override"
    override.mkdir()
    (override / "hello.html").write_text("override {{ name }}")
    templates = Templates(directory=[override, templates_dir])
    assert templates.render("hello.html", name="n") == "override n"
    assert templates.render("plain.txt", name="n") == "Hello, n!"


def test_templates_do_not_load_jinja_until_used():
    import subprocess
    import sys

    code = ("import sys, dyne; app = dyne.App(); from dyne.templates import Templates; "
            "Templates(); print('jinja2' in sys.modules)")
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True).stdout.strip()
    assert output == "False"
