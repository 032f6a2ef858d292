"""The IO examples of the Dyne documentation (shared seeds 001, and 000 where
it differs), run unchanged and checked against what the text says.

Sections: File Uploads, Request Validation, Response Serialization, Expected
Responses, Webhooks, Grouping Request & Response Decorators, and the OpenAPI
section's full example. Each example is kept exactly as printed, inside a
string, and executed. Typos that make the code invalid Python get the
smallest fix, noted next to the example.

Names an example uses without defining them (``app``, ``Column``, schemas
from another section...) are supplied in its namespace; the database,
OpenAPI and auth extensions it imports are stand-ins (tests/ext/io/standins.py)
until those extensions land: ORM rows are plain objects with attributes.
"""

from __future__ import annotations

import base64
import textwrap
import types

import pytest

import dyne
from tests.ext.io import standins


def run(source: str, **namespace):
    """Execute a documentation example in a namespace seeded with ``namespace``."""
    env = {"dyne": dyne, "__name__": "seed_example", **namespace}
    exec(compile(textwrap.dedent(source), "<seed example>", "exec", dont_inherit=True), env)
    return env


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


# -- File Uploads: marshmallow --------------------------------------------------------------

MARSHMALLOW_UPLOAD = '''
from marshmallow import Schema, fields
from dyne.ext.io.marshmallow.fields import FileField
from dyne.ext.io.marshmallow import input

class UploadSchema(Schema):
    description = fields.Str()
    image = FileField(
        allowed_extensions=["png", "jpg", "jpeg"], 
        max_size=5 * 1024 * 1024  # 5MB
    )

@app.route("/upload", methods=["POST"])
@input(UploadSchema, location="form")
async def upload(req, resp, *, data):
    image = data.pop("image") # 'image' is a validated File object.
    await image.asave(image.filename) 
    
    resp.media = {"success": True}
'''

# Seed 000 adds sanitize_filename; it prints `max_size=5 * 1024 * 1024  # 5MB`
# without the comma before the next argument: the comma is added.
MARSHMALLOW_UPLOAD_000 = '''
from marshmallow import Schema, fields
from dyne.ext.io.marshmallow.fields import FileField
from dyne.ext.io.marshmallow import input

class UploadSchema(Schema):
    description = fields.Str()
    image = FileField(
        allowed_extensions=["png", "jpg", "jpeg"],
        max_size=5 * 1024 * 1024,  # 5MB
        sanitize_filename=False     # optional: auto-fix unsafe filenames if True
    )

@app.route("/upload", methods=["POST"])
@input(UploadSchema, location="form")
async def upload(req, resp, *, data):
    image = data.pop("image") # 'image' is a validated File object.
    await image.asave(image.filename)

    resp.media = {"success": True}
'''


@pytest.mark.parametrize("example", [MARSHMALLOW_UPLOAD, MARSHMALLOW_UPLOAD_000], ids=["001", "000"])
def test_marshmallow_upload_example(workdir, example):
    app = dyne.App()
    run(example, app=app)
    image = b"\x89PNG\r\n\x1a\n" + b"pixels" * 100
    response = app.client.post("/upload", data={"description": "A cat"},
                               files={"image": ("cat.png", image, "image/png")})
    assert response.json() == {"success": True}
    assert (workdir / "cat.png").read_bytes() == image

    too_big = app.client.post("/upload", files={"image": ("big.png", b"0" * (5 * 1024 * 1024 + 1))})
    assert too_big.status_code == 400
    assert too_big.json() == {"errors": {"image": [
        "File is too large (5242881 bytes); the limit is 5242880 bytes."]}}
    wrong_type = app.client.post("/upload", files={"image": ("notes.txt", b"hello")})
    assert wrong_type.status_code == 400
    assert wrong_type.json() == {"errors": {"image": [
        "File extension '.txt' is not allowed; allowed: jpeg, jpg, png."]}}
    traversal = app.client.post("/upload", files={"image": ("../escape.png", image)})
    assert traversal.status_code == 400
    assert traversal.json() == {"errors": {"image": ["Filename must not contain path separators."]}}
    assert not (workdir.parent / "escape.png").exists()
    app.client.close()


# -- File Uploads: pydantic ----------------------------------------------------------------

PYDANTIC_UPLOAD = '''
from pydantic import BaseModel, ConfigDict
from dyne.ext.io.pydantic.fields import FileField
from dyne.ext.io.pydantic import input

class Image(FileField):
    max_size = 5 * 1024 * 1024
    allowed_extensions = {"jpg", "jpeg", "png"}

class UploadSchema(BaseModel):
    description: str
    image: Image

    model_config = ConfigDict(
        from_attributes=True,
        arbitrary_types_allowed=True
    )

@app.route("/upload", methods=["POST"])
@input(UploadSchema, location="form")
async def upload(req, resp, *, data):
    image = data.pop("image") # 'image' is a validated File object.
    await image.asave(image.filename)

    resp.media = {"success": True}
'''

PYDANTIC_UPLOAD_000 = PYDANTIC_UPLOAD.replace(
    '    allowed_extensions = {"jpg", "jpeg", "png"}\n',
    '    allowed_extensions = {"jpg", "jpeg", "png"}\n'
    '    sanitize_filename = True  # optional flag for auto-normalizing filenames\n')


def test_pydantic_upload_example(workdir):
    app = dyne.App()
    env = run(PYDANTIC_UPLOAD, app=app)
    photo = b"\xff\xd8\xff\xe0" + b"jpeg" * 100
    response = app.client.post("/upload", data={"description": "Sunset"},
                               files={"image": ("sunset.jpg", photo, "image/jpeg")})
    assert response.json() == {"success": True}
    assert (workdir / "sunset.jpg").read_bytes() == photo

    missing_description = app.client.post("/upload", files={"image": ("a.jpg", photo)})
    assert missing_description.status_code == 400
    assert missing_description.json() == {"errors": {"description": ["Field required"]}}
    too_big = app.client.post("/upload", data={"description": "x"},
                              files={"image": ("big.jpg", b"0" * (6 * 1024 * 1024))})
    assert too_big.json() == {"errors": {"image": ["File is too large (6.0 MB); the limit is 5.0 MB."]}}
    unsafe = app.client.post("/upload", data={"description": "x"},
                             files={"image": ("CON.jpg", photo)})
    assert unsafe.json() == {"errors": {"image": ["Filename is a reserved device name."]}}
    assert issubclass(env["Image"], env["FileField"])
    app.client.close()


def test_pydantic_upload_example_000_sanitizes_filenames(workdir):
    app = dyne.App()
    run(PYDANTIC_UPLOAD_000, app=app)
    response = app.client.post("/upload", data={"description": "x"},
                               files={"image": ("../../Café au lait.JPG", b"jpeg bytes")})
    assert response.json() == {"success": True}
    assert (workdir / "Cafe_au_lait.JPG").read_bytes() == b"jpeg bytes"
    app.client.close()


# -- Creating Custom Validators ----------------------------------------------------------

PYDANTIC_CUSTOM_VALIDATOR = '''
from dyne.ext.io.pydantic.fields import FileField
from dyne.ext.io import File
from pydantic import BaseModel

class ImageField(FileField):
    max_size = 2 * 1024 * 1024
    allowed_extensions = {"jpg", "jpeg", "png"}
    
    # Append the new validator method name to the registry
    file_validators = FileField.file_validators + ["validate_is_image"]

    @classmethod
    def validate_is_image(cls, file: File):
        # Custom logic to check MIME types
        if not file.content_type.startswith("image/"):
            raise ValueError("File is not a valid image")

# Usage in a Model
class ProfileUpdate(BaseModel):
    username: str
    avatar: ImageField
'''


def test_pydantic_custom_validator_example():
    env = run(PYDANTIC_CUSTOM_VALIDATOR)
    from dyne.ext.io.pydantic import input

    app = dyne.App()

    @app.route("/profile", methods=["POST"])
    @input(env["ProfileUpdate"], location="form")
    async def update_profile(req, resp, *, data):
        resp.media = {"username": data.username, "avatar": data.avatar.filename,
                      "type": type(data.avatar).__name__}

    ok = app.client.post("/profile", data={"username": "ada"},
                         files={"avatar": ("me.png", b"png", "image/png")})
    assert ok.json() == {"username": "ada", "avatar": "me.png", "type": "ImageField"}
    not_image = app.client.post("/profile", data={"username": "ada"},
                                files={"avatar": ("me.png", b"png", "text/plain")})
    assert not_image.status_code == 400
    assert not_image.json() == {"errors": {"avatar": ["File is not a valid image"]}}
    assert env["ImageField"].file_validators == [
        "validate_filename", "validate_extension", "validate_size", "validate_is_image"]


MARSHMALLOW_CONSTRUCTOR_VALIDATOR = '''
from dyne.ext.io import File
from dyne.ext.io.marshmallow.fields import FileField
from marshmallow import Schema, ValidationError

class SecureFileField(FileField):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # Add a custom validator to this specific instance
        self.active_file_validators.append("validate_virus_scan")

    def validate_virus_scan(self, file: File):
        if "virus" in file.filename:
            raise ValidationError("Malicious file detected.")

# Usage in a Schema
class SubmissionSchema(Schema):
    tax_report = SecureFileField(
        max_size=2 * 1024 * 1024, 
        allowed_extensions=["pdf"],
        required=True
    )
'''

# Seed 000's version adds `sanitize_filename=True`.
MARSHMALLOW_CONSTRUCTOR_VALIDATOR_000 = MARSHMALLOW_CONSTRUCTOR_VALIDATOR.replace(
    '        allowed_extensions=["pdf"],\n',
    '        allowed_extensions=["pdf"],\n'
    '        sanitize_filename=True,  # optional: auto-fix unsafe filenames\n')

MARSHMALLOW_CLASS_VALIDATOR = '''
class SecureFileField(FileField):
    file_validators = FileField.file_validators + ["validate_virus_scan"]

    def validate_virus_scan(self, file: File):
        if "virus" in file.filename:
            raise ValidationError("Malicious file detected")
'''


def _submission_app(schema):
    from dyne.ext.io.marshmallow import input

    app = dyne.App()

    @app.route("/submit", methods=["POST"])
    @input(schema, location="form")
    async def submit(req, resp, *, data):
        report = data["tax_report"]
        resp.media = {"filename": report.filename, "size": report.size}

    return app


def test_marshmallow_constructor_validator_example():
    env = run(MARSHMALLOW_CONSTRUCTOR_VALIDATOR)
    app = _submission_app(env["SubmissionSchema"])
    ok = app.client.post("/submit", files={"tax_report": ("2024.pdf", b"%PDF-1.7")})
    assert ok.json() == {"filename": "2024.pdf", "size": 8}
    infected = app.client.post("/submit", files={"tax_report": ("virus.pdf", b"%PDF")})
    assert infected.json() == {"errors": {"tax_report": ["Malicious file detected."]}}
    missing = app.client.post("/submit", data={"other": "x"})
    assert missing.json() == {"errors": {"tax_report": ["Missing data for required field."],
                                         "other": ["Unknown field."]}}
    field = env["SubmissionSchema"]().fields["tax_report"]
    assert field.active_file_validators[-1] == "validate_virus_scan"
    assert "validate_virus_scan" not in env["FileField"].file_validators  # per instance only


def test_marshmallow_constructor_validator_example_000_sanitizes():
    env = run(MARSHMALLOW_CONSTRUCTOR_VALIDATOR_000)
    app = _submission_app(env["SubmissionSchema"])
    response = app.client.post("/submit", files={"tax_report": ("C:tax\x7f return.pdf", b"%PDF")})
    assert response.json() == {"filename": "C_tax_return.pdf", "size": 4}


def test_marshmallow_class_validator_example():
    env = run(MARSHMALLOW_CONSTRUCTOR_VALIDATOR)
    env = run(MARSHMALLOW_CLASS_VALIDATOR, **{k: env[k] for k in ("FileField", "File", "ValidationError")})
    field_class = env["SecureFileField"]
    assert field_class().active_file_validators == [
        "validate_filename", "validate_extension", "validate_size", "validate_virus_scan"]
    from marshmallow import Schema

    schema = Schema.from_dict({"tax_report": field_class(required=True)})
    app = _submission_app(schema)
    infected = app.client.post("/submit", files={"tax_report": ("virus.exe", b"MZ")})
    assert infected.json() == {"errors": {"tax_report": ["Malicious file detected"]}}


# -- Request Validation ------------------------------------------------------------------------

PYDANTIC_VALIDATION = '''
import dyne
from pydantic import BaseModel, Field
from dyne.ext.io.pydantic import input

app = dyne.App()

class Book(BaseModel):
    title: str
    price: float = Field(gt=0)

@app.route("/books", methods=["POST"])
@input(Book)  # Default location="media", default key="data"
async def create_book(req, resp, *, data: Book):
    # 'data' is a validated Pydantic instance
    print(f"Creating {data['title']}")
    resp.media = {"status": "created"}
'''

MARSHMALLOW_VALIDATION = '''
import dyne
from marshmallow import Schema, fields
from dyne.ext.io.marshmallow import input

app = dyne.App()

class QuerySchema(Schema):
    page = fields.Int(load_default=1)
    limit = fields.Int(load_default=10)

@app.route("/books", methods=["GET"])
@input(QuerySchema, location="query") # key defaults to "query"
async def list_books(req, resp, *, query):
    # 'query' is a validated dictionary
    page = query['page']
    resp.media = {"results": [], "page": page}
'''

# The docs print `print(f"API Keys: {headers['x_api_key']})`: the closing
# quote of the f-string is missing, and is added here.
ADVANCED_LOCATIONS = '''
class HeaderSchema(BaseModel):
    x_api_key: str = Field(alias="X-API-Key")

@app.route("/secure-data")
@input(HeaderSchema, location="headers")
@input(QuerySchema, location="query", key="params")
async def secure_endpoint(req, resp, *, headers, params):
    # Query params are available as 'params'
    print(f"API Keys: {headers['x_api_key']}")
    print(f"Query: {params}")
    resp.media = {"data": "secret stuff"}
'''


def test_pydantic_validation_example(capsys):
    env = run(PYDANTIC_VALIDATION)
    client = env["app"].client
    created = client.post("/books", json={"title": "Dune", "price": 9.5})
    assert (created.status_code, created.json()) == (200, {"status": "created"})
    assert capsys.readouterr().out == "Creating Dune\n"
    yaml_body = client.post("/books", content="title: Emma\nprice: 3\n",
                            headers={"Content-Type": "application/x-yaml"})
    assert yaml_body.json() == {"status": "created"}
    form_body = client.post("/books", data={"title": "Ulysses", "price": "12"})
    assert form_body.json() == {"status": "created"}
    assert capsys.readouterr().out == "Creating Emma\nCreating Ulysses\n"

    invalid = client.post("/books", json={"title": "Free", "price": 0})
    assert invalid.status_code == 400
    assert invalid.json() == {"errors": {"price": ["Input should be greater than 0"]}}
    missing = client.post("/books", json={})
    assert missing.json() == {"errors": {"title": ["Field required"], "price": ["Field required"]}}
    malformed = client.post("/books", content=b'{"title": ', headers={"Content-Type": "application/json"})
    assert malformed.status_code == 400
    assert capsys.readouterr().out == ""  # the view never ran


def test_marshmallow_validation_example():
    env = run(MARSHMALLOW_VALIDATION)
    client = env["app"].client
    assert client.get("/books").json() == {"results": [], "page": 1}
    assert client.get("/books?page=3&limit=5").json() == {"results": [], "page": 3}
    invalid = client.get("/books?page=three")
    assert invalid.status_code == 400
    assert invalid.json() == {"errors": {"page": ["Not a valid integer."]}}


def test_advanced_locations_example_with_either_input(capsys):
    # On the page, this block follows the marshmallow one: `input` is then
    # marshmallow's, `QuerySchema` a marshmallow schema and `HeaderSchema` a
    # pydantic model; each schema is handled by its own library.
    env = run(PYDANTIC_VALIDATION)
    env = run(MARSHMALLOW_VALIDATION, BaseModel=env["BaseModel"], Field=env["Field"])
    run(ADVANCED_LOCATIONS, **env)
    client = env["app"].client
    response = client.get("/secure-data?page=2", headers={"x-api-key": "k-123"})
    assert response.json() == {"data": "secret stuff"}
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "API Keys: k-123"
    assert out[1] in ("Query: {'page': 2, 'limit': 10}", "Query: {'limit': 10, 'page': 2}")
    missing = client.get("/secure-data")
    assert missing.status_code == 400
    assert missing.json() == {"errors": {"X-API-Key": ["Field required"]}}

    from dyne.ext.io.pydantic import input as pydantic_input

    app = dyne.App()
    run(ADVANCED_LOCATIONS, app=app, input=pydantic_input, BaseModel=env["BaseModel"],
        Field=env["Field"], QuerySchema=env["QuerySchema"])
    assert app.client.get("/secure-data", headers={"X-Api-Key": "k"}).json() == {"data": "secret stuff"}


# -- Response Serialization ---------------------------------------------------------------------

PYDANTIC_OUTPUT = '''
import dyne
from pydantic import BaseModel, ConfigDict
from dyne.ext.db.alchemical import Alchemical, Model
from dyne.ext.io.pydantic import output

class Config:
    ALCHEMICAL_DATABASE_URL = "sqlite:///app.db"

app = dyne.App()
app.config.from_object(Config)

db = Alchemical(app)

@app.on_event("startup")
async def setup_db():
    await db.create_all()

# Define an example SQLAlchemy model
class Book(Model):
    __tablename__ = "books"
    id = Column(Integer, primary_key=True)
    price = Column(Float)
    title = Column(String)

class BookSchema(BaseModel):
    id: int
    title: str
    price: float
    
    # Required for SQLAlchemy integration
    model_config = ConfigDict(from_attributes=True)

@app.route("/books/{id}")
@output(BookSchema)
async def get_book(req, resp, id):
    # Fetch a SQLAlchemy object
    session = await req.db
    book = await session.scalar(Book.select().filter_by(id=id))
    
    # Assign the object to resp.obj
    # The extension converts the ORM model to JSON automatically
    resp.obj = book

@app.route("/all-books")
@output(BookSchema)
async def list_all(req, resp):
    session = await req.db
    query = await session.scalars(Book.select())

    # resp.obj can also be a list or a query object
    resp.obj = query.all()
'''

MARSHMALLOW_OUTPUT = '''
from marshmallow import Schema, fields
from dyne.ext.db.alchemical import Alchemical, Model
from dyne.ext.io.marshmallow import output
import dyne

class Config:
    ALCHEMICAL_DATABASE_URL = "sqlite:///app.db"

app = dyne.App()
app.config.from_object(Config)

db = Alchemical(app)

@app.on_event("startup")
async def setup_db():
    await db.create_all()

# Define an example SQLAlchemy model
class Book(Model):
    __tablename__ = "books"
    id = Column(Integer, primary_key=True)
    price = Column(Float)
    title = Column(String)

class BookSchema(Schema):
    id = fields.Int()
    title = fields.Str()
    price = fields.Float()

books = BookSchema(many=True)

@app.route("/books/{id}")
@output(BookSchema)
async def get_book(req, resp, id):
    # Fetch a SQLAlchemy object
    session = await req.db
    book = await session.scalar(Book.select().filter_by(id=id))
    
    # Assign the object to resp.obj
    # The extension converts the ORM model to JSON automatically
    resp.obj = book

@app.route("/all-books")
@output(books)
async def list_all(req, resp):
    session = await req.db
    query = await session.scalars(Book.select())

    # resp.obj can also be a list or a query object
    resp.obj = query.all()
'''


@pytest.mark.parametrize("example", [PYDANTIC_OUTPUT, MARSHMALLOW_OUTPUT], ids=["pydantic", "marshmallow"])
def test_response_serialization_examples(monkeypatch, workdir, example):
    standins.install(monkeypatch)
    env = run(example, **standins.SQL_NAMES)
    book_class = env["Book"]
    # ORM rows: plain objects with attributes (and one the schema does not list).
    book_class._store(book_class(title="Dune", price=9.5, internal_note="not for clients"))
    book_class._store(book_class(title="Emma", price=3))
    client = env["app"].client
    assert client.get("/books/1").json() == {"id": 1, "title": "Dune", "price": 9.5}
    assert client.get("/all-books").json() == [{"id": 1, "title": "Dune", "price": 9.5},
                                               {"id": 2, "title": "Emma", "price": 3.0}]
    assert client.get("/books/99").status_code == 204  # resp.obj is None: nothing to serialize
    client.close()


# -- Expected Responses --------------------------------------------------------------------------

EXPECT_DESCRIPTIONS = '''
@app.route("/secure-data", methods=["GET"])
@expect({
    401: 'Invalid access or refresh token',
    403: 'Insufficient permissions'
})
async def get_data(req, resp):
    # Logic here...
    pass
'''

ERROR_SCHEMAS = '''
# Pydantic example
from pydantic import BaseModel, Field

class InvalidTokenSchema(BaseModel):
    error: str = Field("token_expired", description="The error code")
    message: str = Field(..., description="Details about the token failure")

class InsufficientPermissionsSchema(BaseModel):
    error: str = "forbidden"
    required_role: str = "admin"


# Marshmallow example
from marshmallow import Schema, fields

class InvalidTokenSchema(Schema):
    error = fields.String(
        dump_default="token_expired",
        metadata={"description": "The error code"},
    )
    message = fields.String(
        required=True,
        metadata={"description": "Details about the token failure"},
    )

class InsufficientPermissionsSchema(Schema):
    error = fields.String(
        dump_default="forbidden",
        metadata={"description": "Error code"},
    )
    required_role = fields.String(
        dump_default="admin",
        metadata={"description": "Role required to access this resource"},
    )
'''

EXPECT_SCHEMAS = '''
@app.route("/secure-data", methods=["GET"])
@expect({
    401: InvalidTokenSchema,
    403: InsufficientPermissionsSchema
})
async def get_data(req, resp):
    pass
'''

EXPECT_SCHEMAS_AND_DESCRIPTIONS = '''
@app.route("/secure-data", methods=["GET"])
@expect({
    401: (InvalidTokenSchema, 'Invalid access or refresh token'),
    403: (InsufficientPermissionsSchema, 'Requires elevated administrative privileges')
})
async def get_data(req, resp):
    pass
'''


@pytest.mark.parametrize("library", ["pydantic", "marshmallow"])
def test_expected_responses_examples(library):
    import importlib

    expect = importlib.import_module(f"dyne.ext.io.{library}").expect
    from dyne.endpoints import get_endpoint_spec

    app = dyne.App()
    env = run(EXPECT_DESCRIPTIONS, app=app, expect=expect)
    assert get_endpoint_spec(env["get_data"]).meta["io.expect"] == {
        401: {"schema": None, "description": "Invalid access or refresh token", "library": library},
        403: {"schema": None, "description": "Insufficient permissions", "library": library},
    }
    # Metadata only: the view runs as usual (it sets nothing: an empty 200).
    response = app.client.get("/secure-data")
    assert (response.status_code, response.content) == (200, b"")

    schemas = run(ERROR_SCHEMAS)
    for source, descriptions in (
            (EXPECT_SCHEMAS, (None, None)),
            (EXPECT_SCHEMAS_AND_DESCRIPTIONS, ("Invalid access or refresh token",
                                               "Requires elevated administrative privileges"))):
        app = dyne.App()
        env = run(source, app=app, expect=expect, **schemas)
        # The marshmallow definitions come last in the example and win.
        assert get_endpoint_spec(env["get_data"]).meta["io.expect"] == {
            401: {"schema": schemas["InvalidTokenSchema"], "description": descriptions[0],
                  "library": "marshmallow"},
            403: {"schema": schemas["InsufficientPermissionsSchema"], "description": descriptions[1],
                  "library": "marshmallow"},
        }
        assert app.client.get("/secure-data").status_code == 200


# -- Webhooks ----------------------------------------------------------------------------------

IMPLICIT_WEBHOOK = '''
@app.route("/events", methods=["POST"])
@webhook
async def handle_event(req, resp):
    pass
'''

EXPLICIT_WEBHOOK = '''
@app.route("/transaction", methods=["POST"])
@webhook(name="transaction_callback")
async def process_payment(req, resp):
    pass
'''

WEBHOOK_WITH_INPUT = '''
@app.route("/transaction", methods=["POST"])
@webhook(name="transaction")
@input(BookSchema)
async def purchase_book(req, resp, *, data):
    """
    Receives a book purchase notification and processes it asynchronously.
    """
    @app.background.task
    def process(book):
        # Simulate heavy processing
        time.sleep(2)
        print(f"Processing webhook for: {book['title']}")

    process(data)
    resp.media = {"status": "Received!"}
'''


@pytest.mark.parametrize("library", ["pydantic", "marshmallow"])
def test_webhook_examples(library, capsys):
    import importlib

    from dyne.endpoints import get_endpoint_spec

    io = importlib.import_module(f"dyne.ext.io.{library}")
    app = dyne.App()
    env = run(IMPLICIT_WEBHOOK, app=app, webhook=io.webhook)
    env = run(EXPLICIT_WEBHOOK, **env)
    assert get_endpoint_spec(env["handle_event"]).meta["webhook"] == {"name": "handle_event"}
    assert get_endpoint_spec(env["process_payment"]).meta["webhook"] == {"name": "transaction_callback"}
    assert app.client.post("/events").status_code == 200
    assert app.client.get("/events").status_code == 405  # the route's methods still apply

    if library == "pydantic":
        from pydantic import BaseModel

        class BookSchema(BaseModel):
            title: str
    else:
        from marshmallow import Schema, fields

        class BookSchema(Schema):
            title = fields.Str(required=True)

    app = dyne.App()
    slept = []
    # The example sleeps 2 s; the test's `time` does not, the code is unchanged.
    fake_time = types.SimpleNamespace(sleep=slept.append)
    env = run(WEBHOOK_WITH_INPUT, app=app, webhook=io.webhook, input=io.input, BookSchema=BookSchema,
              time=fake_time)
    response = app.client.post("/transaction", json={"title": "Dune"})
    assert response.json() == {"status": "Received!"}
    assert app.client.post("/transaction", json={}).status_code == 400
    app.client.close()  # drains the background task
    assert slept == [2]
    assert "Processing webhook for: Dune" in capsys.readouterr().out
    meta = get_endpoint_spec(env["purchase_book"]).meta
    assert meta["webhook"] == {"name": "transaction"}
    assert meta["io.inputs"] == [{"schema": BookSchema, "location": "media", "key": "data",
                                  "library": library}]


# -- Grouping Request & Response Decorators -------------------------------------------------------

GROUPING = '''
import dyne
from dyne.exceptions import abort
from dyne.ext.io.pydantic import expect, input, output, webhook
from dyne.ext.openapi import OpenAPI

app = dyne.App()

db = Alchemical(app)
api = OpenAPI(app, description=description)

@app.route("/update-price/{id}", methods=["PATCH"])
@webhook                      # Documents this endpoint as a webhook.
@input(PriceUpdateSchema)     # Validate request body.
@output(BookSchema)           # Serialize updated ORM object.
@expect({                     # Document potential errors.
    403: "Insufficient permissions",
    404: "Book not found"
})
async def update_book_price(req, resp, id, *, data):
    session = await req.db
    book = await session.scalar(Book.select().filter_by(id=id))
    if not book:
        abort(404)

    book.price = data.price
    await session.commit()

    # The updated 'book' object is serialized back to the client
    resp.obj = book
'''


def test_grouping_example(monkeypatch):
    from pydantic import BaseModel, ConfigDict, Field

    from dyne.endpoints import get_endpoint_spec

    standins.install(monkeypatch)

    class Book(standins.Model):
        __tablename__ = "books"

    class PriceUpdateSchema(BaseModel):
        price: float = Field(gt=0)

    class BookSchema(BaseModel):
        model_config = ConfigDict(from_attributes=True)
        id: int
        title: str
        price: float

    env = run(GROUPING, Alchemical=standins.Alchemical, description="Books API", Book=Book,
              PriceUpdateSchema=PriceUpdateSchema, BookSchema=BookSchema)
    Book._store(Book(title="Dune", price=9.5))
    client = env["app"].client
    response = client.patch("/update-price/1", json={"price": "12.25"})
    assert (response.status_code, response.json()) == (200, {"id": 1, "title": "Dune", "price": 12.25})
    assert Book._rows[1].price == 12.25
    assert env["db"].sessions[-1].commits == 1
    assert client.patch("/update-price/2", json={"price": 1}).status_code == 404
    invalid = client.patch("/update-price/1", json={"price": -1})
    assert (invalid.status_code, invalid.json()) == (
        400, {"errors": {"price": ["Input should be greater than 0"]}})
    assert Book._rows[1].price == 12.25

    meta = get_endpoint_spec(env["update_book_price"]).meta
    assert meta["webhook"] == {"name": "update_book_price"}
    assert meta["io.inputs"] == [{"schema": PriceUpdateSchema, "location": "media", "key": "data",
                                  "library": "pydantic"}]
    assert meta["io.output"]["schema"] is BookSchema and meta["io.output"]["status_code"] == 200
    assert set(meta["io.expect"]) == {403, 404}
    assert env["api"].options == {"description": "Books API"}
    client.close()


# -- OpenAPI: the full example -----------------------------------------------------------------

FULL_OPENAPI_EXAMPLE = '''
import dyne
from dyne.ext.openapi import OpenAPI
from marshmallow import Schema, fields
from dyne.ext.auth import authenticate, BasicAuth
from dyne.ext.io.marshmallow import input, output, expect
from dyne.ext.io.marshmallow.fields import FileField
from dyne.ext.db.alchemical import Alchemical, CRUDMixin, Model

class Book(CRUDMixin, Model):  # SQLAlchemy Model
    __tablename__ = "books"
    id = Column(Integer, primary_key=True)
    price = Column(Float)
    title = Column(String)
    cover = Column(String, nullable=True)

# Define your schemas
class BookSchema(Schema):
    id = fields.Integer(dump_only=True)
    price = fields.Float()
    title = fields.Str()
    cover_url = fields.Str()

class BookCreateSchema(Schema):
    price = fields.Float(required=True)
    title = fields.Str(required=True)
    # FileField is automatically documented as a 'binary' format string
    image = FileField(allowed_extensions=["png", "jpg"], max_size=5 * 1024 * 1024)

description = """ 
User Management API
-------------------
This API allows for comprehensive management of users and books.

**Base URL:** `https://api.example.com/v1`
**Support:** `support@example.com`
"""

class Config:
    ALCHEMICAL_DATABASE_URL = "sqlite:///app.db"

app = dyne.App()
app.config.from_object(Config)

db = Alchemical(app)
api = OpenAPI(app, description=description)

users = dict(john="password", admin="password123")
roles = {"john": "user", "admin": ["user", "admin"]}
basic_auth = BasicAuth()

@basic_auth.verify_password
async def verify_password(username, password):
    if username in users and users.get(username) == password:
        return username
    return None

@basic_auth.error_handler
async def error_handler(req, resp, status_code=401):
    resp.text = "Invalid credentials"
    resp.status_code = status_code

@basic_auth.get_user_roles
async def get_user_roles(user):
    return roles.get(user)

@app.route("/book", methods=["POST"])
@authenticate(basic_auth, role="admin")
@input(BookCreateSchema, location="form")
@output(BookSchema, status_code=201)
@expect({401: "Unauthorized", 400: "Invalid file format"})
@db.transaction
async def create_book(req, resp, *, data):
    """
    Create a new Book
    ---
    This endpoint allows admins to upload a book cover and metadata.
    """

    image = data.pop("image")
    await image.asave(f"uploads/{image.filename}") # The image is already validated for extension and size.


    book = await Book.create(**data, cover=image.filename)

    resp.obj = book
'''


def _basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_full_openapi_example(monkeypatch, workdir):
    from dyne.endpoints import get_endpoint_spec

    standins.install(monkeypatch)
    (workdir / "uploads").mkdir()
    env = run(FULL_OPENAPI_EXAMPLE, **standins.SQL_NAMES)
    client = env["app"].client
    form = {"title": "Dune", "price": "9.5"}
    cover = {"image": ("dune.png", b"\x89PNG cover", "image/png")}

    created = client.post("/book", data=form, files=cover, headers=_basic("admin", "password123"))
    assert (created.status_code, created.json()) == (201, {"id": 1, "price": 9.5, "title": "Dune"})
    assert (workdir / "uploads" / "dune.png").read_bytes() == b"\x89PNG cover"
    assert env["Book"]._rows[1].cover == "dune.png"
    assert env["db"].transactions == 1

    # Authentication runs before validation, whatever the decorator order.
    assert client.post("/book", data={}, headers=_basic("admin", "nope")).status_code == 401
    assert client.post("/book", data=form, files=cover, headers=_basic("john", "password")
                       ).status_code == 403
    wrong_format = client.post("/book", data=form, files={"image": ("dune.gif", b"GIF89a")},
                               headers=_basic("admin", "password123"))
    assert wrong_format.status_code == 400
    assert wrong_format.json() == {"errors": {"image": [
        "File extension '.gif' is not allowed; allowed: jpg, png."]}}
    assert env["db"].transactions == 1

    meta = get_endpoint_spec(env["create_book"]).meta
    assert meta["io.inputs"][0]["location"] == "form"
    assert meta["io.output"]["status_code"] == 201
    assert meta["io.expect"][400]["description"] == "Invalid file format"
    client.close()

