from dyne import status


def test_status_constants_and_helpers():
    assert status.HTTP_200_OK == 200
    assert status.HTTP_404 == 404
    assert status.HTTP_422_UNPROCESSABLE_CONTENT == status.HTTP_422_UNPROCESSABLE_ENTITY == 422
    assert status.is_100(101) and not status.is_100(200)
    assert status.is_200(204) and not status.is_200(300)
    assert status.is_300(302) and not status.is_300(400)
    assert status.is_400(404) and not status.is_400(500)
    assert status.is_500(503) and not status.is_500(499)
