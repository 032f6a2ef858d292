"""CLI commands: ``dyne add-book TITLE AUTHOR YEAR`` and ``dyne count-books``."""

from app.api.models.book import Book
from app.extensions import db
from dyne.cli import CLIController, argument, command


class LibraryCLIController(CLIController):
    """Library maintenance from the command line."""

    @command("add-book", help="Add a book to the library.")
    @argument("title", arg_type=str, description="The book's title.")
    @argument("author", arg_type=str, description="Its author.")
    @argument("year", arg_type=int, description="The year it was published.")
    async def add_book(self, title: str, author: str, year: int):
        async with db.begin() as session:
            book = Book(title=title, author=author, year=year)
            session.add(book)
            await session.flush()
            print(f"Added book {book.id}: {title} ({author}, {year}).")

    @command("count-books", help="Print how many books the library has.")
    async def count_books(self):
        async with db.session() as session:
            print(f"{self.app.settings.APP_NAME} has {await Book.query(session).count()} books.")
