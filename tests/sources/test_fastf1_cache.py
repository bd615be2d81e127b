import fastf1
import pytest

from f1pipe.config import load_settings
from f1pipe.errors import ConfigError
from f1pipe.sources import configure_fastf1
from f1pipe.sources.fastf1_cache import RECORDED_ACCEPT_ENCODING


def test_recorded_cache_is_read_only_offline_and_pinned(fastf1_offline):
    fastf1_offline.configure()
    session = fastf1.Cache._requests_session_cached
    assert session.headers["Accept-Encoding"] == RECORDED_ACCEPT_ENCODING
    assert session.settings.only_if_cached is True
    assert session.settings.allowable_codes == ()
    assert fastf1.Cache.get_cache_info()[0] == str(fastf1_offline.cache_dir)


def test_plain_cache_folder_is_created_and_offline_follows_settings(tmp_path, fastf1_offline):
    try:
        configure_fastf1(load_settings(fastf1_cache_dir=tmp_path / "ff1", offline=False))
        assert (tmp_path / "ff1").is_dir()
        assert fastf1.Cache._requests_session_cached.settings.only_if_cached is False
    finally:
        fastf1_offline.configure()


def test_recorded_folder_without_http_cache_is_a_config_error(tmp_path):
    settings = load_settings(fastf1_cache_dir=tmp_path / "ff1", fastf1_recorded_dir=tmp_path)
    with pytest.raises(ConfigError, match="has no http_cache/ folder"):
        configure_fastf1(settings)
