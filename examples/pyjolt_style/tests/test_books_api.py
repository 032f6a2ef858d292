async def test_create_then_get_a_book(client):
    created = await client.post("/api/v1/books", json={"title": "Emma", "author": "Jane Austen",
                                                       "year": 1815})
    assert created.status_code == 201
    res = await client.get(created.headers["location"])
    assert res.status_code == 200
    assert res.json()["title"] == "Emma"


async def test_a_missing_book_is_answered_by_the_exception_handler(client):
    res = await client.get("/api/v1/books/999")
    assert res.status_code == 404
    assert res.json() == {"message": "Book 999 not found", "details": {"book_id": "999"}}


async def test_health(client):
    res = await client.get("/health")
    assert res.json() == {"status": "healthy", "app": "Library"}
