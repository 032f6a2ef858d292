"""Responses read back as in the published Dyne 2.0.5 (tried against 2.0.5)."""

import dyne


def test_content_reads_back_the_text_or_html_set():
    app = dyne.App()
    seen = []

    @app.route("/text")
    def text(req, resp):
        resp.text = "héllo"
        seen.append(resp.content)
        resp.html = "<b>x</b>"
        seen.append((resp.content, resp.text, resp.html))

    response = app.client.get("/text")
    assert seen == ["héllo", ("<b>x</b>", "<b>x</b>", "<b>x</b>")]
    assert response.content == b"<b>x</b>"
    assert response.headers["content-type"] == "text/html; charset=utf-8"


def test_content_set_as_bytes_reads_back_as_bytes():
    app = dyne.App()
    seen = []

    @app.route("/raw")
    def raw(req, resp):
        resp.content = b"raw"
        seen.append(resp.content)

    assert app.client.get("/raw").content == b"raw"
    assert seen == [b"raw"]
