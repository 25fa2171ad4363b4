-- The metrics database, declaratively: hzflow's schema module creates every
-- table that is missing and adds every column and index that an existing
-- (reference- or legacy-created) table lacks.  Nothing is ever dropped.
-- Column types are those HUBzero's own code expects; utf8mb3 as the legacy
-- databases use, so joins between old and new tables keep one collation.

CREATE TABLE bot_useragents (
  useragent tinytext NOT NULL DEFAULT '',
  PRIMARY KEY (useragent(255))
);

CREATE TABLE classes (
  class tinyint(4) NOT NULL DEFAULT 0,
  name varchar(128) NOT NULL DEFAULT '',
  valfmt tinyint(4) NOT NULL DEFAULT 0,
  size tinyint(4) NOT NULL DEFAULT 0,
  PRIMARY KEY (class)
);

CREATE TABLE classvals (
  class tinyint(4) NOT NULL DEFAULT 0,
  datetime datetime NOT NULL DEFAULT '0000-00-00 00:00:00',
  period tinyint(4) NOT NULL DEFAULT 0,
  `rank` tinyint(4) NOT NULL DEFAULT 0,
  name varchar(255) DEFAULT NULL,
  value bigint(20) NOT NULL DEFAULT 0,
  KEY class (class)
);

CREATE TABLE continents (
  continentSHORT char(2) NOT NULL DEFAULT '',
  continentLONG varchar(45) NOT NULL DEFAULT '',
  UNIQUE KEY continentSHORT (continentSHORT, continentLONG)
);

CREATE TABLE countries (
  code varchar(4) NOT NULL DEFAULT '',
  name varchar(128) NOT NULL DEFAULT '',
  PRIMARY KEY (code)
);

CREATE TABLE country_continent (
  country char(2) NOT NULL DEFAULT '',
  continent char(2) NOT NULL DEFAULT '',
  PRIMARY KEY (country, continent)
);

CREATE TABLE domainclass (
  domain varchar(64) NOT NULL DEFAULT '',
  class tinyint(4) NOT NULL DEFAULT 0,
  country varchar(4) NOT NULL DEFAULT '',
  state varchar(4) NOT NULL DEFAULT '',
  name tinytext NOT NULL DEFAULT '',
  PRIMARY KEY (domain),
  KEY class (class),
  KEY domain_class (domain, class)
);

CREATE TABLE domainclasses (
  class tinyint(4) NOT NULL DEFAULT 0,
  name varchar(64) NOT NULL DEFAULT '',
  PRIMARY KEY (class),
  UNIQUE KEY class_name (class, name)
);

CREATE TABLE exclude_list (
  id int(11) unsigned NOT NULL AUTO_INCREMENT,
  filter varchar(65) NOT NULL DEFAULT '',
  type varchar(65) NOT NULL DEFAULT 'domain',
  notes varchar(120) DEFAULT NULL,
  date_added timestamp NOT NULL DEFAULT current_timestamp() ON UPDATE current_timestamp(),
  PRIMARY KEY (id),
  UNIQUE KEY filter_type (filter, type)
);

CREATE TABLE exclude_list2 (
  filter varchar(65) NOT NULL DEFAULT '',
  type varchar(65) NOT NULL DEFAULT 'domain',
  notes varchar(120) DEFAULT NULL
);

CREATE TABLE jos_xprofiles_metrics (
  uidNumber int(11) NOT NULL DEFAULT 0,
  name varchar(255) NOT NULL DEFAULT '',
  username varchar(150) NOT NULL DEFAULT '',
  email varchar(100) NOT NULL DEFAULT '',
  registerDate datetime NOT NULL DEFAULT '0000-00-00 00:00:00',
  gidNumber varchar(11) NOT NULL DEFAULT '',
  homeDirectory varchar(255) NOT NULL DEFAULT '',
  loginShell varchar(255) NOT NULL DEFAULT '',
  ftpShell varchar(255) NOT NULL DEFAULT '',
  userPassword varchar(255) NOT NULL DEFAULT '',
  gid varchar(255) NOT NULL DEFAULT '',
  orgtype varchar(255) NOT NULL DEFAULT '',
  organization varchar(255) NOT NULL DEFAULT '',
  countryresident char(2) NOT NULL DEFAULT '',
  countryorigin char(2) NOT NULL DEFAULT '',
  gender varchar(255) NOT NULL DEFAULT '',
  url varchar(255) NOT NULL DEFAULT '',
  reason text NOT NULL DEFAULT '',
  mailPreferenceOption int(11) NOT NULL DEFAULT -1,
  usageAgreement int(11) NOT NULL DEFAULT 0,
  modifiedDate datetime NOT NULL DEFAULT '0000-00-00 00:00:00',
  emailConfirmed int(11) NOT NULL DEFAULT 0,
  regIP varchar(255) NOT NULL DEFAULT '',
  regHost varchar(255) NOT NULL DEFAULT '',
  nativeTribe varchar(255) NOT NULL DEFAULT '',
  phone varchar(255) NOT NULL DEFAULT '',
  proxyPassword varchar(255) NOT NULL DEFAULT '',
  proxyUidNumber varchar(255) NOT NULL DEFAULT '',
  givenName varchar(255) NOT NULL DEFAULT '',
  middleName varchar(255) NOT NULL DEFAULT '',
  surname varchar(255) NOT NULL DEFAULT '',
  picture varchar(255) NOT NULL DEFAULT '',
  vip int(11) NOT NULL DEFAULT 0,
  public tinyint(2) NOT NULL DEFAULT 0,
  params text NOT NULL DEFAULT '',
  note text NOT NULL DEFAULT '',
  shadowExpire int(11) DEFAULT NULL,
  locked tinyint(4) NOT NULL DEFAULT 0,
  orcid varchar(255) NOT NULL DEFAULT '',
  PRIMARY KEY (uidNumber),
  KEY idx_username (username)
);

CREATE TABLE migrations (
  id int(11) NOT NULL DEFAULT 0,
  description varchar(255) DEFAULT NULL,
  applied_at datetime DEFAULT current_timestamp(),
  PRIMARY KEY (id)
);

CREATE TABLE regions (
  region tinyint(4) NOT NULL DEFAULT 0,
  name varchar(128) NOT NULL DEFAULT '',
  valfmt tinyint(4) NOT NULL DEFAULT 0,
  size tinyint(4) NOT NULL DEFAULT 0,
  PRIMARY KEY (region)
);

CREATE TABLE regionvals (
  region tinyint(4) NOT NULL DEFAULT 0,
  datetime datetime NOT NULL DEFAULT '0000-00-00 00:00:00',
  period tinyint(4) NOT NULL DEFAULT 0,
  `rank` tinyint(4) NOT NULL DEFAULT 0,
  name varchar(255) DEFAULT NULL,
  value bigint(20) NOT NULL DEFAULT 0
);

CREATE TABLE sessionlog_metrics (
  id bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  sessnum bigint(20) unsigned NOT NULL DEFAULT 0,
  user varchar(150) NOT NULL DEFAULT '',
  ip varchar(15) NOT NULL DEFAULT '',
  start datetime NOT NULL DEFAULT '0000-00-00 00:00:00',
  appname varchar(150) NOT NULL DEFAULT '',
  host tinytext DEFAULT NULL,
  domain tinytext DEFAULT NULL,
  orgtype tinytext DEFAULT NULL,
  countryresident char(2) DEFAULT NULL,
  countrycitizen char(2) DEFAULT NULL,
  ipcountry char(2) DEFAULT NULL,
  PRIMARY KEY (sessnum),
  UNIQUE KEY id (id),
  KEY user (user),
  KEY start (start),
  KEY appname (appname),
  KEY countryresident (countryresident),
  KEY countrycitizen (countrycitizen),
  KEY orgtype (orgtype(255))
);

CREATE TABLE summary_andmore (
  id tinyint(4) NOT NULL DEFAULT 0,
  label varchar(255) NOT NULL DEFAULT '',
  plot int(1) DEFAULT 0,
  UNIQUE KEY label (label)
);

CREATE TABLE summary_andmore_vals (
  rowid tinyint(4) NOT NULL DEFAULT 0,
  colid tinyint(4) NOT NULL DEFAULT 0,
  datetime datetime NOT NULL DEFAULT '0000-00-00 00:00:00',
  period tinyint(4) NOT NULL DEFAULT 1,
  value bigint(20) DEFAULT 0,
  valfmt tinyint(4) NOT NULL DEFAULT 0
);

CREATE TABLE summary_misc (
  id tinyint(4) NOT NULL DEFAULT 0,
  label varchar(255) NOT NULL DEFAULT '',
  plot int(1) DEFAULT 0,
  UNIQUE KEY label (label)
);

CREATE TABLE summary_misc_vals (
  rowid tinyint(4) NOT NULL DEFAULT 0,
  colid tinyint(4) NOT NULL DEFAULT 0,
  datetime datetime NOT NULL DEFAULT '0000-00-00 00:00:00',
  period tinyint(4) NOT NULL DEFAULT 1,
  value varchar(200) DEFAULT '',
  valfmt tinyint(4) NOT NULL DEFAULT 0
);

CREATE TABLE summary_simusage (
  id tinyint(4) NOT NULL DEFAULT 0,
  label varchar(255) NOT NULL DEFAULT '',
  plot int(1) DEFAULT 0,
  UNIQUE KEY label (label)
);

CREATE TABLE summary_simusage_vals (
  rowid tinyint(4) NOT NULL DEFAULT 0,
  colid tinyint(4) NOT NULL DEFAULT 0,
  datetime datetime NOT NULL DEFAULT '0000-00-00 00:00:00',
  period tinyint(4) NOT NULL DEFAULT 1,
  value bigint(20) DEFAULT 0,
  valfmt tinyint(4) NOT NULL DEFAULT 0
);

CREATE TABLE summary_user (
  id tinyint(4) NOT NULL DEFAULT 0,
  label varchar(255) NOT NULL DEFAULT '',
  plot int(1) DEFAULT 0,
  UNIQUE KEY label (label)
);

CREATE TABLE summary_user_vals (
  rowid tinyint(4) NOT NULL DEFAULT 0,
  colid tinyint(4) NOT NULL DEFAULT 0,
  datetime datetime NOT NULL DEFAULT '0000-00-00 00:00:00',
  period tinyint(4) NOT NULL DEFAULT 1,
  value bigint(20) DEFAULT 0,
  valfmt tinyint(4) NOT NULL DEFAULT 0
);

CREATE TABLE toolstart (
  id bigint(20) NOT NULL AUTO_INCREMENT,
  sessionid bigint(20) DEFAULT NULL,
  datetime datetime NOT NULL DEFAULT '0000-00-00 00:00:00',
  orgtype tinytext DEFAULT NULL,
  countryresident char(2) DEFAULT NULL,
  countrycitizen char(2) DEFAULT NULL,
  success tinyint(4) NOT NULL DEFAULT 0,
  ipcountry char(2) DEFAULT NULL,
  ip varchar(15) NOT NULL DEFAULT '',
  host tinytext DEFAULT NULL,
  user varchar(150) DEFAULT NULL,
  tool tinytext NOT NULL DEFAULT '',
  pid int(11) DEFAULT NULL,
  domain tinytext DEFAULT NULL,
  filesystem tinytext DEFAULT NULL,
  execunit tinytext DEFAULT NULL,
  walltime float unsigned DEFAULT 0,
  cputime float unsigned DEFAULT 0,
  error tinytext DEFAULT NULL,
  PRIMARY KEY (id),
  KEY datetime (datetime),
  KEY success (success),
  KEY sessionid (sessionid),
  KEY ipcountry (ipcountry),
  KEY countrycitizen (countrycitizen),
  KEY countryresident (countryresident),
  KEY orgtype (orgtype(255)),
  KEY ip (ip),
  KEY user (user)
);

CREATE TABLE tops (
  top tinyint(4) NOT NULL DEFAULT 0,
  name varchar(128) NOT NULL DEFAULT '',
  valfmt tinyint(4) NOT NULL DEFAULT 0,
  size tinyint(4) NOT NULL DEFAULT 0,
  PRIMARY KEY (top)
);

CREATE TABLE topvals (
  top tinyint(4) NOT NULL DEFAULT 0,
  datetime datetime NOT NULL DEFAULT '0000-00-00 00:00:00',
  period tinyint(4) NOT NULL DEFAULT 1,
  `rank` tinyint(4) NOT NULL DEFAULT 0,
  name varchar(255) DEFAULT NULL,
  value bigint(20) NOT NULL DEFAULT 0,
  KEY top (top),
  KEY top_datetime_period (top, datetime, period),
  KEY top_datetime_rank (top, datetime, `rank`)
);

CREATE TABLE totalvals (
  hub tinyint(4) NOT NULL DEFAULT 0,
  total tinyint(4) NOT NULL DEFAULT 0,
  datetime datetime NOT NULL DEFAULT '0000-00-00 00:00:00',
  period tinyint(4) NOT NULL DEFAULT 1,
  value bigint(20) NOT NULL DEFAULT 0,
  KEY hub_total_datetime (hub, total, datetime)
);

CREATE TABLE userlogin (
  id bigint(20) NOT NULL AUTO_INCREMENT,
  datetime datetime NOT NULL DEFAULT '0000-00-00 00:00:00',
  user varchar(255) NOT NULL DEFAULT '-',
  uidNumber bigint(20) DEFAULT 0,
  ip varchar(15) NOT NULL DEFAULT '',
  action varchar(40) NOT NULL DEFAULT '',
  PRIMARY KEY (id),
  UNIQUE KEY userlogin (datetime, user, uidNumber, ip, action)
);

CREATE TABLE userlogin_lite (
  id bigint(20) NOT NULL DEFAULT 0,
  datetime datetime NOT NULL DEFAULT '0000-00-00 00:00:00',
  user varchar(255) NOT NULL DEFAULT '-',
  uidNumber bigint(20) DEFAULT 0,
  ip varchar(15) NOT NULL DEFAULT '',
  action varchar(40) NOT NULL DEFAULT '',
  KEY uidNumber (uidNumber),
  KEY datetime_user (datetime, user),
  KEY ip_user_action (ip, user, action)
);

CREATE TABLE web (
  id bigint(20) NOT NULL AUTO_INCREMENT,
  elementid bigint(20) DEFAULT NULL,
  sessionid bigint(20) DEFAULT NULL,
  datetime datetime NOT NULL DEFAULT '0000-00-00 00:00:00',
  ipcountry char(2) DEFAULT NULL,
  content tinytext NOT NULL DEFAULT '',
  referrer tinytext DEFAULT NULL,
  useragent tinytext DEFAULT NULL,
  ip varchar(15) NOT NULL DEFAULT '',
  host tinytext DEFAULT NULL,
  domain tinytext DEFAULT NULL,
  uidNumber int(11) DEFAULT NULL,
  apache_pid varchar(120) NOT NULL DEFAULT '',
  joomla_sessionid varchar(120) NOT NULL DEFAULT '',
  site_cookie varchar(120) NOT NULL DEFAULT '',
  auth_type varchar(120) NOT NULL DEFAULT '',
  component_name varchar(120) NOT NULL DEFAULT '',
  view_name varchar(120) NOT NULL DEFAULT '',
  task_name varchar(120) NOT NULL DEFAULT '',
  action_name varchar(120) NOT NULL DEFAULT '',
  item_name varchar(120) NOT NULL DEFAULT '',
  dnload tinyint(4) DEFAULT NULL,
  PRIMARY KEY (id),
  KEY ipcountry (ipcountry),
  KEY ip (ip),
  KEY content (content(255)),
  KEY web_sessionid_dnload (sessionid, dnload),
  KEY web_host (host(255)),
  KEY web_dt_ip (datetime, ip),
  KEY web_dnload_dt (dnload, datetime)
);

CREATE TABLE webhits (
  datetime datetime NOT NULL DEFAULT '0000-00-00 00:00:00',
  hits bigint(20) NOT NULL DEFAULT 0
);

CREATE TABLE websessions (
  id bigint(20) NOT NULL DEFAULT 0,
  datetime datetime NOT NULL DEFAULT '0000-00-00 00:00:00',
  ipcountry char(2) NOT NULL DEFAULT '',
  ip varchar(15) NOT NULL DEFAULT '',
  host tinytext DEFAULT NULL,
  domain tinytext DEFAULT NULL,
  duration bigint(20) NOT NULL DEFAULT 0,
  jobs tinyint(4) NOT NULL DEFAULT 0,
  webevents bigint(20) NOT NULL DEFAULT 0,
  PRIMARY KEY (id),
  KEY datetime (datetime),
  KEY ipcountry (ipcountry),
  KEY ip (ip),
  KEY ws_datetime_jobs_dur_country (datetime, jobs, duration, ipcountry),
  KEY ws_domain (domain),
  KEY ws_jobs_country_dur (jobs, ipcountry, duration),
  KEY ws_host (host(255))
);

CREATE TABLE pipeline_state (
  k varchar(64) NOT NULL,
  v text NOT NULL,
  updated_at datetime NOT NULL DEFAULT current_timestamp() ON UPDATE current_timestamp(),
  PRIMARY KEY (k)
);

-- Provenance of imported log files.  `filename` is the file's name without a
-- compression suffix, so a log that is later gzipped is still recognised.
-- hzflow adds `detail` (JSON: per-day webhits, source size and hash) so that
-- `forget-import` can take back exactly what the file brought.
CREATE TABLE imported_sources (
  id bigint(20) NOT NULL AUTO_INCREMENT,
  filename varchar(255) NOT NULL,
  target_table enum('web','userlogin','webhits') NOT NULL,
  pk_start bigint(20) DEFAULT NULL,
  pk_end bigint(20) DEFAULT NULL,
  row_count bigint(20) NOT NULL DEFAULT 0,
  imported_at datetime NOT NULL,
  origin enum('importer','reconstruct') NOT NULL DEFAULT 'importer',
  detail text DEFAULT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uniq_filename_target (filename, target_table)
);

-- hzflow's own ledger of applied schema and data changes.
CREATE TABLE hzflow_migrations (
  id int(11) NOT NULL,
  description varchar(255) NOT NULL,
  applied_at datetime NOT NULL DEFAULT current_timestamp(),
  hzflow_version varchar(32) NOT NULL DEFAULT '',
  PRIMARY KEY (id)
);

-- Who took over this database and from which month hzflow builds it
-- (hzflow adopt; or recorded by the first cron on an empty database or one
-- hzflow filled itself).  The newest row is in force.
CREATE TABLE hzflow_adoption (
  id int(11) NOT NULL AUTO_INCREMENT,
  adopted_at datetime NOT NULL DEFAULT current_timestamp(),
  hzflow_version varchar(32) NOT NULL DEFAULT '',
  kind enum('empty','hzflow','adopted') NOT NULL,
  first_month char(7) DEFAULT NULL,
  detail text DEFAULT NULL,
  PRIMARY KEY (id)
);

-- Reverse-DNS answers, so an address is asked once per TTL across months and
-- tables.  status: 'name' (host holds the PTR name) or 'none' (NXDOMAIN / no
-- PTR).  Timeouts and server failures are never stored.
CREATE TABLE hzflow_dns_cache (
  ip varchar(45) NOT NULL,
  host varchar(255) NOT NULL DEFAULT '',
  status enum('name','none') NOT NULL,
  resolved_at datetime NOT NULL,
  PRIMARY KEY (ip),
  KEY resolved_at (resolved_at)
);

-- Country answers for addresses the hub's legacy jos_metrics_ipgeo_cache
-- cannot key (its signed INT stops at 127.255.255.255).
CREATE TABLE hzflow_ipgeo_cache (
  ip int(10) unsigned NOT NULL,
  countrySHORT char(2) NOT NULL DEFAULT '',
  countryLONG varchar(64) NOT NULL DEFAULT '',
  ipREGION varchar(128) NOT NULL DEFAULT '',
  ipCITY varchar(128) NOT NULL DEFAULT '',
  ipLATITUDE double DEFAULT NULL,
  ipLONGITUDE double DEFAULT NULL,
  lookup_datetime timestamp NOT NULL DEFAULT current_timestamp(),
  PRIMARY KEY (ip)
);

-- Per-month "seen" rollups behind the long summary windows (rollups.py).
-- Columns ip, host, ipcountry and domain keep websessions' types so that
-- distinct counts and joins compare exactly as they do on websessions.
-- month is the bucket of the session start; late = 0 only for a start at
-- the bucket's first midnight, which a window starting that month excludes.
CREATE TABLE hzflow_seen_sessions (
  month char(7) NOT NULL,
  late tinyint(1) NOT NULL,
  ip varchar(15) NOT NULL DEFAULT '',
  host tinytext DEFAULT NULL,
  ipcountry char(2) NOT NULL DEFAULT '',
  domain tinytext DEFAULT NULL,
  interactive tinyint(1) NOT NULL,
  visit tinyint(1) NOT NULL,
  long_visit tinyint(1) NOT NULL,
  sessions bigint(20) NOT NULL,
  duration bigint(20) NOT NULL,
  KEY seen_month (month, late)
);

-- Sessions with jobs = 0, duration >= 0 and a download (web.dnload = 1):
-- their visitor keys by the month of the session start and of the download.
CREATE TABLE hzflow_seen_downloads (
  month char(7) NOT NULL,
  late tinyint(1) NOT NULL,
  dl_month char(7) NOT NULL,
  dl_late tinyint(1) NOT NULL,
  ip varchar(15) NOT NULL DEFAULT '',
  host tinytext DEFAULT NULL,
  ipcountry char(2) NOT NULL DEFAULT '',
  domain tinytext DEFAULT NULL,
  short tinyint(1) NOT NULL,
  KEY seen_month (month, late),
  KEY seen_dl_month (dl_month)
);

-- The public addresses whose web rows a month stage gave their ipcountry with
-- their host (resolve-dns, before clean-bots), and that host.  After
-- clean-bots those with rows left are the addresses fill-ipcountry would have
-- found unfilled; the fill reads them, then empties the month's entries.
CREATE TABLE hzflow_born_country (
  period_start date NOT NULL,
  ip varchar(15) NOT NULL DEFAULT '',
  host varchar(255) NOT NULL DEFAULT '',
  PRIMARY KEY (period_start, ip, host)
);

-- Which months the rollups hold, and a fingerprint of the source rows they
-- were built from; a changed fingerprint makes the next summary rebuild them.
CREATE TABLE hzflow_rollup_months (
  month char(7) NOT NULL,
  fingerprint varchar(255) NOT NULL,
  refreshed_at datetime NOT NULL,
  PRIMARY KEY (month)
);
