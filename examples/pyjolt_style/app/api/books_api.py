"""The books controller: create, read, update and delete ``Book`` rows."""

from sqlalchemy.ext.asyncio import AsyncSession

from app.api.models.book import Book, BookData, BookOut, ErrorResponse
from app.exceptions.handler import BookNotFound
from app.extensions import db
from dyne import Request
from dyne.controllers import (
    Controller,
    Descriptor,
    HttpStatus,
    MediaType,
    Response,
    abort,
    consumes,
    cors,
    delete,
    get,
    open_api_docs,
    path,
    post,
    produces,
    put,
)


async def _book(session: AsyncSession, book_id: int) -> Book:
    book = await Book.query(session).filter_by(id=book_id).first()
    if book is None:
        raise BookNotFound(book_id)
    return book


@path("/api/v1/books", tags=["Books"])
class BooksApi(Controller):
    @get("/")
    @produces(MediaType.APPLICATION_JSON)
    @db.readonly_session
    async def list_books(self, req: Request, session: AsyncSession) -> Response:
        """Lists the books, a page at a time (?page=, ?q= searches titles)"""
        query = Book.query(session).order_by(Book.id)
        if "q" in req.query_params:
            query = query.ilike("title", f"%{req.query_params['q']}%")
        page_number = req.query_params.get("page", "1")
        if not page_number.isdigit() or not 0 < int(page_number) <= 1_000_000:
            abort("page must be a whole number from 1", status_code=HttpStatus.BAD_REQUEST)
        page = await query.paginate(page=int(page_number), per_page=10)
        return req.res.json(page.as_dict(
            items=[BookOut.model_validate(book).model_dump() for book in page["items"]]))

    @get("/<int:book_id>")
    @produces(MediaType.APPLICATION_JSON)
    @open_api_docs(Descriptor(status=HttpStatus.NOT_FOUND, description="No such book",
                              body=ErrorResponse))
    @db.readonly_session
    async def get_book(self, req: Request, book_id: int, session: AsyncSession) -> Response[BookOut]:
        """Returns a book by book_id"""
        return req.res.json(BookOut.model_validate(await _book(session, book_id)))

    @post("/")
    @consumes(MediaType.APPLICATION_JSON)
    @produces(MediaType.APPLICATION_JSON)
    @open_api_docs(Descriptor(status=HttpStatus.UNPROCESSABLE_ENTITY, description="Invalid book",
                              body=ErrorResponse))
    @db.managed_session
    async def create_book(self, req: Request, book: BookData,
                          session: AsyncSession) -> Response[BookOut]:
        """Creates a book"""
        stored = Book(**book.model_dump())
        session.add(stored)
        await session.flush()  # assigns the id
        location = self.app.url_for("BooksApi.get_book", book_id=stored.id)
        return (req.res.json(BookOut.model_validate(stored)).status(HttpStatus.CREATED)
                .set_header("Location", location))

    @put("/<int:book_id>")
    @consumes(MediaType.APPLICATION_JSON)
    @produces(MediaType.APPLICATION_JSON)
    @db.managed_session
    async def replace_book(self, req: Request, book_id: int, book: BookData,
                           session: AsyncSession) -> Response[BookOut]:
        """Replaces a book"""
        stored = await _book(session, book_id)
        for field, value in book.model_dump().items():
            setattr(stored, field, value)
        return req.res.json(BookOut.model_validate(stored))

    @delete("/<int:book_id>")
    @db.managed_session
    async def delete_book(self, req: Request, book_id: int, session: AsyncSession) -> Response:
        """Deletes a book"""
        await session.delete(await _book(session, book_id))
        return req.res.no_content()

    @get("/count")
    @cors(allow_origins=["https://catalogue.example"], allow_methods=["GET"], max_age=600)
    @db.readonly_session
    async def count(self, req: Request, session: AsyncSession) -> Response:
        """How many books there are (callable from the catalogue's site)"""
        return req.res.json({"books": await Book.query(session).count()})
