"""hzflow init: create, adopt in place, idempotent, dry-run; doctor and status."""





def columns(hub):
    return hub.query("SELECT table_name, column_name, column_type FROM information_schema.columns "
                     "WHERE table_schema = %s ORDER BY table_name, ordinal_position", (hub.metrics_db,))


def test_init_creates_every_table_and_is_idempotent(hub):
    hub.hzflow("init")
    first = columns(hub)
    tables = {t for t, _, _ in first}
    assert {"web", "webhits", "userlogin", "imported_sources", "bot_useragents", "websessions",
            "toolstart", "summary_user_vals", "jos_xprofiles_metrics", "hzflow_migrations",
            "hzflow_seen_sessions", "hzflow_seen_downloads", "hzflow_rollup_months", "hzflow_born_country"} <= tables
    assert hub.dump("hzflow_migrations", "id") == [(1,), (2,), (3,), (4,), (5,), (6,)]
    assert len(hub.dump("country_continent", order="country")) > 240 and len(hub.dump("domainclasses", order="class")) == 7
    r = hub.hzflow("init")
    assert "already at head" in r.stdout and columns(hub) == first


def test_init_adopts_a_legacy_database_without_losing_a_row(hub, server):
    conn = server.connect()
    with conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE `{hub.metrics_db}`")
        cur.execute(f"USE `{hub.metrics_db}`")
        cur.execute("CREATE TABLE web (id bigint AUTO_INCREMENT PRIMARY KEY, datetime datetime, "
                    "content tinytext, ip varchar(15)) ENGINE=InnoDB")
        cur.execute("INSERT INTO web (datetime, content, ip) VALUES ('2015-01-02 03:04:05', '/old', '192.0.2.9')")
        cur.execute("CREATE TABLE bot_useragents (useragent tinytext NOT NULL, PRIMARY KEY (useragent(255)))")
        cur.execute("INSERT INTO bot_useragents VALUES ('LegacyBot/1')")
        cur.execute("CREATE TABLE imported_sources (id bigint AUTO_INCREMENT PRIMARY KEY, filename varchar(255) "
                    "NOT NULL, target_table enum('web','userlogin','webhits') NOT NULL, pk_start bigint, "
                    "pk_end bigint, row_count bigint NOT NULL DEFAULT 0, imported_at datetime NOT NULL, "
                    "UNIQUE KEY uniq_filename_target (filename, target_table))")
    conn.close()
    dry = hub.hzflow("init", "--dry-run")
    assert "ADD COLUMN `dnload`" in dry.stdout and "ADD COLUMN `detail`" in dry.stdout
    assert not any(c == "dnload" for _, c, _ in columns(hub))
    hub.hzflow("init")
    assert hub.dump("web", "id, content, ip, dnload") == [(1, "/old", "192.0.2.9", None)]
    assert hub.dump("bot_useragents", "useragent", "useragent") == [("LegacyBot/1",)]
    assert {"dnload", "joomla_sessionid", "detail", "origin"} <= {c for _, c, _ in columns(hub)}
    assert "already at head" in hub.hzflow("init").stdout


def test_init_dry_run_on_a_new_server_creates_nothing(hub):
    r = hub.hzflow("init", "--dry-run")
    assert "CREATE DATABASE" in r.stdout
    assert hub.server.connect().cursor().execute(
        "SHOW DATABASES LIKE %s", (hub.metrics_db,)) == 0


def test_init_loads_an_operators_reference_dump(hub, tmp_path):
    dump = tmp_path / "ref.sql"
    dump.write_text("INSERT INTO exclude_list (filter, type, notes) VALUES ('198.51.100.7', 'ip', 'scanner');\n"
                    "INSERT INTO domainclass VALUES ('example.edu', 1, 'us', '', 'Example U');\n")
    hub.hzflow("init", "--reference-data", dump)
    assert hub.dump("exclude_list", "filter, type") == [("198.51.100.7", "ip")]
    assert hub.dump("domainclass", "domain", "domain") == [("example.edu",)]


def test_doctor_reports_each_problem_and_fails(hub):
    hub.apache.mkdir(parents=True)
    r = hub.hzflow("doctor", check=False)
    assert r.returncode == 1
    assert "not at head" in r.stdout and "hub database" in r.stdout and "no access logs" in r.stdout
    assert "auth log directory" in r.stdout
    hub.init()
    assert "not at head" not in hub.hzflow("doctor", check=False).stdout


def test_an_unreachable_server_is_a_clear_error(hub, tmp_path):
    hub.write_config(db={"socket": str(tmp_path / "nothing.sock"), "user": "x"})
    r = hub.hzflow("init", check=False)
    assert r.returncode == 3 and "cannot connect to MariaDB" in r.stderr and "Traceback" not in r.stderr


def test_a_bad_config_key_is_named_and_nothing_runs(hub):
    hub.write_config(dns={"nameserver": "127.0.0.1"})
    r = hub.hzflow("init", check=False)
    assert r.returncode == 2 and "unknown key dns.nameserver" in r.stderr


def test_a_world_readable_password_file_stops_every_command(hub, tmp_path):
    pw = tmp_path / "db.password"
    pw.write_text("secret\n")
    pw.chmod(0o644)
    hub.write_config(db={**hub.server.db_config(hub_db=hub.hub_db, metrics_db=hub.metrics_db),
                         "password_file": str(pw)})
    r = hub.hzflow("init", check=False)
    assert r.returncode == 2 and "readable by group or others" in r.stderr and "secret" not in r.stderr
    assert hub.server.connect().cursor().execute("SHOW DATABASES LIKE %s", (hub.metrics_db,)) == 0
