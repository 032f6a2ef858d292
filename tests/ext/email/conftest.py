import pytest

from .smtp import make_certificate


@pytest.fixture(scope="session")
def certificate(tmp_path_factory):
    return make_certificate(tmp_path_factory.mktemp("smtp-cert"))
