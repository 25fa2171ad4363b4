"""A minimal hub database for the demo and the tests: the hub tables hzflow reads and writes.

On a real hub these belong to the CMS and the middleware; hzflow never
creates them there.  Column names and types follow HUBzero's.
"""

from __future__ import annotations

from hzflow import schema
from hzflow.db import quote_ident as q

HUB_TABLES = """
CREATE TABLE jos_users (id int NOT NULL PRIMARY KEY, name varchar(255) NOT NULL DEFAULT '',
  username varchar(150) NOT NULL DEFAULT '', email varchar(100) NOT NULL DEFAULT '',
  block tinyint NOT NULL DEFAULT 0, registerDate datetime DEFAULT NULL, KEY username (username));
CREATE TABLE jos_user_profiles (id int unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY, user_id int NOT NULL,
  profile_key varchar(100) NOT NULL, profile_value text NOT NULL, ordering int NOT NULL DEFAULT 0,
  access int NOT NULL DEFAULT 0, KEY user_id (user_id));
CREATE TABLE jos_resources (id int NOT NULL PRIMARY KEY, title varchar(250) NOT NULL DEFAULT '',
  type int NOT NULL DEFAULT 0, published int NOT NULL DEFAULT 1, standalone tinyint NOT NULL DEFAULT 1,
  alias varchar(100) NOT NULL DEFAULT '', path varchar(200) NOT NULL DEFAULT '',
  created datetime DEFAULT NULL, publish_up datetime DEFAULT NULL);
CREATE TABLE jos_resource_assoc (id bigint unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY, parent_id int NOT NULL,
  child_id int NOT NULL, ordering int DEFAULT 0, `grouping` int DEFAULT 0, KEY parent_child (parent_id, child_id));
CREATE TABLE jos_resource_stats (id bigint NOT NULL AUTO_INCREMENT PRIMARY KEY, resid bigint NOT NULL,
  restype int NOT NULL, users bigint DEFAULT NULL, jobs bigint DEFAULT NULL, avg_wall int DEFAULT NULL,
  tot_wall int DEFAULT NULL, avg_cpu int DEFAULT NULL, tot_cpu int DEFAULT NULL, datetime datetime NOT NULL,
  period tinyint NOT NULL DEFAULT -1, processed_on datetime DEFAULT NULL,
  UNIQUE KEY uidx_resid_restype_datetime_period (resid, restype, datetime, period));
CREATE TABLE jos_resource_stats_tools (id bigint NOT NULL AUTO_INCREMENT PRIMARY KEY, resid bigint NOT NULL,
  restype int NOT NULL, users bigint DEFAULT NULL, sessions bigint DEFAULT NULL, simulations bigint DEFAULT NULL,
  jobs bigint DEFAULT NULL, avg_wall double unsigned DEFAULT 0, tot_wall double unsigned DEFAULT 0,
  avg_cpu double unsigned DEFAULT 0, tot_cpu double unsigned DEFAULT 0, avg_view double unsigned DEFAULT 0,
  tot_view double unsigned DEFAULT 0, avg_wait double unsigned DEFAULT 0, tot_wait double unsigned DEFAULT 0,
  avg_cpus int DEFAULT 0, tot_cpus int DEFAULT 0, datetime datetime NOT NULL, period tinyint NOT NULL DEFAULT -1,
  processed_on datetime DEFAULT NULL);
CREATE TABLE jos_resource_stats_tools_topvals (id bigint NOT NULL, top tinyint NOT NULL DEFAULT 0,
  `rank` tinyint NOT NULL DEFAULT 0, name varchar(255) DEFAULT NULL, value bigint NOT NULL DEFAULT 0);
CREATE TABLE jos_stats_topvals (id int unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY, top tinyint NOT NULL DEFAULT 0,
  datetime datetime DEFAULT NULL, period tinyint NOT NULL DEFAULT 1, `rank` smallint NOT NULL DEFAULT 0,
  name varchar(255) DEFAULT NULL, value bigint NOT NULL DEFAULT 0, KEY idx_top_datetime_period (top, datetime, period));
CREATE TABLE jos_session (session_id varchar(200) NOT NULL PRIMARY KEY, client_id tinyint unsigned DEFAULT 0,
  guest tinyint unsigned DEFAULT 1, time varchar(14) DEFAULT '', data mediumtext, userid int DEFAULT 0,
  username varchar(150) DEFAULT '', usertype varchar(50) DEFAULT '', ip varchar(15) DEFAULT NULL);
CREATE TABLE jos_session_geo (session_id varchar(200) NOT NULL DEFAULT '0' PRIMARY KEY,
  username varchar(150) DEFAULT '', time varchar(14) DEFAULT '', guest tinyint DEFAULT 1, userid int DEFAULT 0,
  ip varchar(15) DEFAULT '', host varchar(128) DEFAULT '', domain varchar(128) DEFAULT '', signed tinyint DEFAULT 0,
  countrySHORT char(2) DEFAULT NULL, countryLONG varchar(64) DEFAULT NULL, ipREGION varchar(128) DEFAULT NULL,
  ipCITY varchar(128) DEFAULT NULL, ipLATITUDE double DEFAULT NULL, ipLONGITUDE double DEFAULT NULL,
  bot tinyint DEFAULT 0, KEY idx_ip (ip));
CREATE TABLE jos_tool_version (id int NOT NULL PRIMARY KEY, toolname varchar(64) NOT NULL DEFAULT '',
  instance varchar(31) NOT NULL DEFAULT '', title varchar(127) NOT NULL DEFAULT '',
  version varchar(15) NOT NULL DEFAULT '', state int NOT NULL DEFAULT 1, released datetime DEFAULT NULL);
CREATE TABLE sessionlog (sessnum bigint unsigned NOT NULL PRIMARY KEY, username varchar(32) NOT NULL DEFAULT '',
  remoteip varchar(40) NOT NULL DEFAULT '', remotehost varchar(40) NOT NULL DEFAULT '',
  exechost varchar(40) NOT NULL DEFAULT '', dispnum int unsigned DEFAULT 0, start datetime DEFAULT NULL,
  appname varchar(80) NOT NULL DEFAULT '', walltime double unsigned DEFAULT 0,
  viewtime double unsigned DEFAULT 0, cputime double unsigned DEFAULT 0, status smallint unsigned DEFAULT 0);
CREATE TABLE joblog (sessnum bigint unsigned NOT NULL, job int unsigned NOT NULL, superjob bigint unsigned DEFAULT 0,
  event varchar(40) NOT NULL DEFAULT '', start datetime DEFAULT NULL, walltime double unsigned DEFAULT 0,
  cputime double unsigned DEFAULT 0, ncpus smallint unsigned DEFAULT 1, status smallint unsigned DEFAULT 0,
  venue varchar(80) NOT NULL DEFAULT '', PRIMARY KEY (sessnum, job, event));
CREATE TABLE jos_metrics_ipgeo_cache (ip int NOT NULL PRIMARY KEY, countrySHORT char(2) NOT NULL DEFAULT '',
  countryLONG varchar(64) NOT NULL DEFAULT '', ipREGION varchar(128) NOT NULL DEFAULT '',
  ipCITY varchar(128) NOT NULL DEFAULT '', ipLATITUDE double DEFAULT NULL, ipLONGITUDE double DEFAULT NULL,
  lookup_datetime timestamp NOT NULL DEFAULT current_timestamp());
"""


def create(cur, database: str) -> None:
    """(Re)create `database` as a small hub database with empty tables."""
    cur.execute(f"DROP DATABASE IF EXISTS {q(database)}")
    cur.execute(f"CREATE DATABASE {q(database)} DEFAULT CHARACTER SET utf8mb3")
    for stmt in filter(str.strip, HUB_TABLES.split(";")):
        cur.execute(stmt.replace("CREATE TABLE ", f"CREATE TABLE {q(database)}.", 1))
    profiles = schema.tables()["jos_xprofiles_metrics"]
    profiles.name = "jos_xprofiles"
    cur.execute(profiles.create_sql(database))
