"""Settings: defaults < TOML file < CAMPAIGN_* environment, and errors that name what is wrong."""

from __future__ import annotations

import json
import stat
import tomllib
from pathlib import Path

import pytest

from campaign.config import (
    CONFIG_ENV,
    SECRET_KEY_ENV,
    ConfigError,
    Settings,
    example_toml,
    load_settings,
    secret_key,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_FILE = REPO_ROOT / "config.example.toml"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# --- precedence --------------------------------------------------------------------------------


def test_without_file_or_environment_the_defaults_apply(workdir: Path) -> None:
    settings = load_settings(environ={})
    assert settings == Settings()
    assert settings.mail.smtp.port == 587
    assert settings.source is None


def test_a_file_setting_overrides_the_default(workdir: Path) -> None:
    config = write(workdir / "settings.toml", "[mail.smtp]\nport = 2525\n")
    settings = load_settings(config, environ={})
    assert settings.mail.smtp.port == 2525
    assert settings.mail.smtp.host == "localhost"  # untouched settings keep their default
    assert settings.source == str(config)


def test_an_environment_variable_overrides_the_file(workdir: Path) -> None:
    config = write(workdir / "settings.toml", "[mail.smtp]\nport = 2525\nhost = 'relay'\n")
    settings = load_settings(config, environ={"CAMPAIGN_MAIL_SMTP_PORT": "465"})
    assert settings.mail.smtp.port == 465
    assert settings.mail.smtp.host == "relay"


def test_an_environment_variable_overrides_the_default_without_a_file(workdir: Path) -> None:
    settings = load_settings(environ={"CAMPAIGN_DATABASE_URL": "sqlite:///other.db"})
    assert settings.database.url == "sqlite:///other.db"


def test_a_list_setting_is_read_from_a_comma_separated_environment_variable(
    workdir: Path,
) -> None:
    settings = load_settings(environ={"CAMPAIGN_EVENTS_THEMES": "Emploi, Climat,,"})
    assert settings.events.themes == ["Emploi", "Climat"]


# --- which file --------------------------------------------------------------------------------


def test_the_config_option_wins_over_campaign_config_and_the_local_file(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    explicit = write(workdir / "explicit.toml", "[general]\ntimezone = 'America/Cayenne'\n")
    from_env = write(workdir / "from-env.toml", "[general]\ntimezone = 'Indian/Reunion'\n")
    write(workdir / "config.toml", "[general]\ntimezone = 'Europe/Brussels'\n")
    monkeypatch.setenv(CONFIG_ENV, str(from_env))
    settings = load_settings(explicit, environ={})
    assert settings.general.timezone == "America/Cayenne"
    assert settings.source == str(explicit)


def test_campaign_config_wins_over_the_local_config_toml(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from_env = write(workdir / "from-env.toml", "[general]\ntimezone = 'Indian/Reunion'\n")
    write(workdir / "config.toml", "[general]\ntimezone = 'Europe/Brussels'\n")
    monkeypatch.setenv(CONFIG_ENV, str(from_env))
    settings = load_settings(environ={})
    assert settings.general.timezone == "Indian/Reunion"


def test_the_local_config_toml_is_read_when_nothing_else_names_a_file(workdir: Path) -> None:
    write(workdir / "config.toml", "[general]\ntimezone = 'Europe/Brussels'\n")
    settings = load_settings(environ={})
    assert settings.general.timezone == "Europe/Brussels"
    assert settings.source == "config.toml"


def test_a_missing_config_option_file_is_an_error_naming_it(workdir: Path) -> None:
    with pytest.raises(ConfigError, match=r"nowhere\.toml does not exist"):
        load_settings(workdir / "nowhere.toml", environ={})


def test_a_missing_campaign_config_file_is_an_error_naming_the_variable(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CONFIG_ENV, str(workdir / "gone.toml"))
    with pytest.raises(ConfigError, match=rf"{CONFIG_ENV}.*gone\.toml"):
        load_settings(environ={})


# --- errors ------------------------------------------------------------------------------------


def test_an_unknown_key_is_an_error_naming_the_key_and_the_file(workdir: Path) -> None:
    config = write(workdir / "settings.toml", "[mail.smtp]\nhots = 'relay'\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(config, environ={})
    message = str(caught.value)
    assert "mail.smtp.hots" in message
    assert str(config) in message


def test_an_unknown_section_is_an_error_naming_it(workdir: Path) -> None:
    config = write(workdir / "settings.toml", "[mailing]\nhost = 'relay'\n")
    with pytest.raises(ConfigError, match="'mailing'"):
        load_settings(config, environ={})


def test_a_value_of_the_wrong_type_is_an_error_naming_the_key_and_the_file(
    workdir: Path,
) -> None:
    config = write(workdir / "settings.toml", '[mail.smtp]\nport = "abc"\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(config, environ={})
    message = str(caught.value)
    assert "mail.smtp.port" in message
    assert str(config) in message
    assert "abc" in message


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("from_address", "lemois-at-example.org"),
        ("from_address", "lemois@exemple.org>\r\nBcc: everyone@example.org"),
        ("from_address", "élodie@exemple.fr"),  # messages go without SMTPUTF8
        ("reply_to", "contact@@exemple.fr"),
        ("return_path_domain", "bounces example.org"),
    ],
)
def test_a_sender_address_no_message_could_carry_is_refused_at_load(
    workdir: Path, key: str, value: str
) -> None:
    """Accepted, it would fail every recipient of the next send one by one."""
    config = write(workdir / "settings.toml", f"[mail]\n{key} = {json.dumps(value)}\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(config, environ={})
    message = str(caught.value)
    assert f"'mail.{key}'" in message
    assert str(config) in message


@pytest.mark.parametrize(
    ("section", "key", "value"),
    [
        ("mail.smtp", "helo_name", "mail.lemois-ess.org\r\nMAIL FROM:<x@example.org>"),
        ("mail.smtp", "helo_name", "mail lemois"),
        ("mail", "unsubscribe_prefix", "unsubscribe@example.org"),
        ("mail", "unsubscribe_prefix", "désinscription"),
    ],
)
def test_names_written_into_smtp_commands_and_addresses_are_checked_at_load(
    workdir: Path, section: str, key: str, value: str
) -> None:
    config = write(workdir / "settings.toml", f"[{section}]\n{key} = {json.dumps(value)}\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(config, environ={})
    assert f"'{section}.{key}'" in str(caught.value)


def test_a_helo_name_and_an_unsubscribe_prefix_are_read(workdir: Path) -> None:
    config = write(
        workdir / "settings.toml",
        '[mail]\nunsubscribe_prefix = ""\n[mail.smtp]\nhelo_name = "mail.lemois-ess.org"\n'
        "[web]\nallow_insecure_links = true\n",
    )
    settings = load_settings(config, environ={})
    assert settings.mail.smtp.helo_name == "mail.lemois-ess.org"
    assert settings.mail.unsubscribe_prefix == ""
    assert settings.web.allow_insecure_links is True
    assert Settings().web.allow_insecure_links is False


def test_sender_addresses_are_kept_in_the_form_messages_carry(workdir: Path) -> None:
    config = write(
        workdir / "settings.toml",
        "[mail]\nfrom_address = ' LeMois@Bücher.de '\nreply_to = ''\n"
        "return_path_domain = 'bücher.de'\n",
    )
    settings = load_settings(config, environ={})
    assert settings.mail.from_address == "lemois@xn--bcher-kva.de"
    assert settings.mail.reply_to == ""
    assert settings.mail.return_path_domain == "xn--bcher-kva.de"


def test_a_wrong_environment_value_is_an_error_naming_the_variable(workdir: Path) -> None:
    config = write(workdir / "settings.toml", "[mail.smtp]\nport = 2525\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(config, environ={"CAMPAIGN_MAIL_SMTP_PORT": "abc"})
    message = str(caught.value)
    assert "environment variable CAMPAIGN_MAIL_SMTP_PORT" in message
    assert "mail.smtp.port" in message


def test_a_value_out_of_range_is_refused(workdir: Path) -> None:
    with pytest.raises(ConfigError, match=r"mail\.smtp\.connections"):
        load_settings(environ={"CAMPAIGN_MAIL_SMTP_CONNECTIONS": "0"})


def test_a_password_in_the_file_is_refused_with_a_pointer_to_password_env(workdir: Path) -> None:
    config = write(workdir / "settings.toml", '[mail.smtp]\npassword = "x"\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(config, environ={})
    message = str(caught.value)
    assert "mail.smtp.password" in message
    assert "password_env" in message
    assert str(config) in message
    assert "'x'" not in message  # the secret itself is never echoed


def test_a_secret_key_in_the_file_is_refused_with_a_pointer_to_the_environment(
    workdir: Path,
) -> None:
    config = write(workdir / "settings.toml", '[general]\nsecret_key = "abc"\n')
    with pytest.raises(ConfigError, match=SECRET_KEY_ENV):
        load_settings(config, environ={})


def test_an_unknown_time_zone_is_refused(workdir: Path) -> None:
    config = write(workdir / "settings.toml", '[general]\ntimezone = "Europe/Lutece"\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(config, environ={})
    assert "general.timezone" in str(caught.value)
    assert "Europe/Lutece" in str(caught.value)


def test_a_file_that_is_not_valid_toml_is_an_error_naming_the_file(workdir: Path) -> None:
    config = write(workdir / "settings.toml", "[mail.smtp\nport = \n")
    with pytest.raises(ConfigError) as caught:
        load_settings(config, environ={})
    assert str(config) in str(caught.value)
    assert "not valid TOML" in str(caught.value)


# --- the documented example --------------------------------------------------------------------


def test_config_example_toml_at_the_repository_root_is_the_generated_example() -> None:
    assert EXAMPLE_FILE.is_file(), "generate it: campaign config example > config.example.toml"
    assert EXAMPLE_FILE.read_text(encoding="utf-8") == example_toml()


def test_the_example_parses_back_into_the_default_settings(workdir: Path) -> None:
    config = write(workdir / "example.toml", example_toml())
    assert tomllib.loads(example_toml())  # plain TOML, readable by any tool
    settings = load_settings(config, environ={})
    assert settings.model_dump() == Settings().model_dump()


def test_the_example_documents_every_setting_with_its_environment_variable() -> None:
    text = example_toml()
    assert "# Environment: CAMPAIGN_MAIL_SMTP_PORT" in text
    assert "# Environment: CAMPAIGN_DATABASE_URL" in text
    assert "password_env = " in text
    assert "\npassword = " not in text


# --- the signing key ---------------------------------------------------------------------------


def test_the_secret_key_from_the_environment_wins_over_the_key_file(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(workdir / "campaign.secret", "from-the-file-" + "f" * 40)
    monkeypatch.setenv(SECRET_KEY_ENV, "from-the-environment-" + "e" * 40)
    key, created = secret_key(Settings())
    assert key == "from-the-environment-" + "e" * 40
    assert created is False


def test_a_too_short_secret_key_in_the_environment_is_refused(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SECRET_KEY_ENV, "short")
    with pytest.raises(ConfigError, match="too short"):
        secret_key(Settings())


def test_with_create_a_key_file_readable_only_by_its_owner_is_generated_once(
    workdir: Path,
) -> None:
    key, created = secret_key(Settings(), create=True)
    path = workdir / "campaign.secret"
    assert created is True
    assert len(key) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text(encoding="utf-8").strip() == key
    again, created_again = secret_key(Settings(), create=True)
    assert (again, created_again) == (key, False)


def test_without_create_a_missing_key_is_an_error_saying_how_to_get_one(workdir: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        secret_key(Settings())
    assert SECRET_KEY_ENV in str(caught.value)
    assert "campaign init" in str(caught.value)
    assert not (workdir / "campaign.secret").exists()
