"""Exception-handler class: one JSON shape for the API's errors."""

from pydantic import ValidationError

from dyne import Request
from dyne.controllers import CustomException, ExceptionHandler, HttpStatus, Response, handles


class BookNotFound(CustomException):
    def __init__(self, book_id: int) -> None:
        super().__init__(f"Book {book_id} not found")
        self.book_id = book_id


class CustomExceptionHandler(ExceptionHandler):
    @handles(BookNotFound)
    async def not_found(self, req: Request, exc: BookNotFound) -> Response:
        """Answers a missing book"""
        return req.res.json({"message": str(exc), "details": {"book_id": str(exc.book_id)}}
                            ).status(HttpStatus.NOT_FOUND)

    @handles(ValidationError)
    async def validation_error(self, req: Request, exc: ValidationError) -> Response:
        """Answers an invalid body: which field, and what is wrong"""
        details = {".".join(str(part) for part in error["loc"]) or "body": error["msg"]
                   for error in exc.errors()}
        return req.res.json({"message": "Validation failed.", "details": details}
                            ).status(HttpStatus.UNPROCESSABLE_ENTITY)
