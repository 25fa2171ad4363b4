"""import-hub-data, middleware-wall/-cpu, fill-user-info against a real hub database."""


def seed_hub(hub):
    hub.hub_query("INSERT INTO sessionlog (sessnum, username, remoteip, exechost, start, appname) VALUES "
                  "(1, 'alice', '192.0.2.1', 'exec1', '2025-07-01 10:00:00', 'qdot'), "
                  "(2, 'gridstat', '192.0.2.2', 'exec1', '2025-07-01 11:00:00', 'qdot'), "
                  "(3, 'hctest7', '192.0.2.3', 'exec1', '2025-07-01 12:00:00', 'qdot'), "
                  "(4, 'bob', '192.0.2.4', 'exec2', '2025-07-02 09:00:00', 'abacus')")
    hub.hub_query("INSERT INTO joblog (sessnum, job, event, start, walltime, cputime) VALUES "
                  "(1, 1, 'simulation', '2025-07-01 10:01:00', 200.5, 10.5), "
                  "(1, 2, '[waiting]', '2025-07-01 10:02:00', 50, 0), "
                  "(2, 1, 'simulation', '2025-07-01 11:01:00', 99, 9), "
                  "(3, 1, 'simulation', '2025-07-01 12:01:00', 99, 9), "
                  "(4, 1, 'simulation', '2025-07-02 09:01:00', 1.49, 0.5)")
    hub.hub_query("INSERT INTO jos_users (id, username) VALUES (1, 'alice'), (2, 'bob')")
    hub.hub_query("INSERT INTO jos_user_profiles (user_id, profile_key, profile_value) VALUES "
                  "(1, 'orgtype', 'universityfaculty'), (1, 'countryresident', 'us'), "
                  "(1, 'countryorigin', 'de'), (2, 'orgtype', '')")
    hub.hub_query("INSERT INTO jos_xprofiles (uidNumber, username, emailConfirmed) VALUES "
                  "(1, 'alice', 1), (2, 'bob', -1), (3, 'carol', 3)")


def test_import_hub_data_copies_sessions_and_confirmed_profiles(ready_hub):
    seed_hub(ready_hub)
    ready_hub.hzflow("import-hub-data")
    ready_hub.hzflow("import-hub-data")
    assert ready_hub.dump("sessionlog_metrics", "sessnum, user, ip, appname", "sessnum") == [
        (1, "alice", "192.0.2.1", "qdot"), (2, "gridstat", "192.0.2.2", "qdot"),
        (3, "hctest7", "192.0.2.3", "qdot"), (4, "bob", "192.0.2.4", "abacus")]
    assert ready_hub.dump("jos_xprofiles_metrics", "uidNumber", "uidNumber") == [(1,), (3,)]
    tables = ready_hub.query("SHOW TABLES LIKE 'jos_xprofiles_metrics%%'")
    assert tables == [("jos_xprofiles_metrics",)]


def test_middleware_rounds_half_up_and_skips_monitoring_accounts(ready_hub):
    seed_hub(ready_hub)
    ready_hub.hzflow("middleware-wall")
    ready_hub.hzflow("middleware-cpu")
    ready_hub.hzflow("middleware-wall")
    assert ready_hub.dump("toolstart", "datetime, user, tool, execunit, walltime, cputime", "datetime") == [
        (ready_hub.query("SELECT TIMESTAMP('2025-07-01 10:01:00')")[0][0], "alice", "qdot", "exec1", 201.0, 11.0),
        (ready_hub.query("SELECT TIMESTAMP('2025-07-02 09:01:00')")[0][0], "bob", "abacus", "exec2", 1.0, 1.0)]


def test_fill_user_info_fills_empty_cells_from_profiles(ready_hub):
    seed_hub(ready_hub)
    ready_hub.hzflow("middleware-wall")
    ready_hub.query("UPDATE toolstart SET orgtype = 'keep' WHERE user = 'bob'")
    ready_hub.hzflow("fill-user-info", "metrics", "toolstart", "2025-07")
    assert ready_hub.dump("toolstart", "user, orgtype, countryresident, countrycitizen", "user") == [
        ("alice", "UNIVERSITYFACULTY", "US", "DE"), ("bob", "keep", None, None)]
