"""Live fixtures: two gunicorn app servers on the suite's database, for the tests of this folder."""
import pytest

from tests.live.servers import AppServers


@pytest.fixture(scope="session")
def running_servers(app, database_url, tmp_path_factory):
    """Two app servers (2 workers each) on the suite's database, migrated by the `app` fixture; started
    once for the session (a start and a stop cost some 10 s each on a loaded machine)."""
    with AppServers(2, database_url, tmp_path_factory.mktemp("servers")) as servers:
        yield servers


@pytest.fixture
def app_servers(running_servers):
    """The running servers, their logs looked at from this test on (`new_failures()`)."""
    running_servers.new_failures()
    return running_servers
