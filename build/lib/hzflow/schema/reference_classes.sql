-- hzflow default reference data: organisation classes, a starter domain
-- classification, a starter list of crawler user agents.  Loaded by
-- `hzflow init` only into empty tables.
--
-- domainclasses: the class ids the summaries read (1 education, 2 industry,
-- 3 government; everything else counts as "other").
INSERT IGNORE INTO domainclasses (class, name) VALUES
(0, 'Unknown'),
(1, 'Educational Institution'),
(2, 'Industrial/Corporate'),
(3, 'Governmental'),
(4, 'Internet Service Provider'),
(5, 'Search Engine'),
(6, 'Press/Media/Publication');

-- domainclass: registrable domains the summaries can classify out of the box.
-- Hubs extend this table with their own visitors' organisations.
INSERT IGNORE INTO domainclass (domain, class, country, state, name) VALUES
('edu', 1, 'us', '', 'US higher education'),
('gov', 3, 'us', '', 'US federal government'),
('mil', 3, 'us', '', 'US military'),
('ac.uk', 1, 'uk', '', 'UK academic network'),
('gov.uk', 3, 'uk', '', 'UK government'),
('ac.jp', 1, 'jp', '', 'Japanese academic network'),
('go.jp', 3, 'jp', '', 'Japanese government'),
('edu.au', 1, 'au', '', 'Australian higher education'),
('gov.au', 3, 'au', '', 'Australian government'),
('ac.in', 1, 'in', '', 'Indian academic network'),
('edu.cn', 1, 'cn', '', 'Chinese education network'),
('ac.kr', 1, 'kr', '', 'Korean academic network'),
('purdue.edu', 1, 'us', 'in', 'Purdue University'),
('nsf.gov', 3, 'us', '', 'National Science Foundation'),
('nasa.gov', 3, 'us', '', 'NASA'),
('comcast.net', 4, 'us', '', 'Comcast'),
('verizon.net', 4, 'us', '', 'Verizon'),
('charter.com', 4, 'us', '', 'Charter Communications'),
('googlebot.com', 5, 'us', '', 'Google crawler'),
('search.msn.com', 5, 'us', '', 'Bing crawler'),
('amazonaws.com', 2, 'us', '', 'Amazon Web Services'),
('ibm.com', 2, 'us', '', 'IBM'),
('intel.com', 2, 'us', '', 'Intel'),
('nytimes.com', 6, 'us', '', 'The New York Times');

-- bot_useragents: exact user-agent strings excluded at import.  identify-bots
-- adds every agent of an imported log that looks automated.
INSERT IGNORE INTO bot_useragents (useragent) VALUES
('Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)'),
('Googlebot/2.1 (+http://www.google.com/bot.html)'),
('Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)'),
('Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)'),
('Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)'),
('Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)'),
('Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)'),
('Mozilla/5.0 (compatible; DotBot/1.2; +https://opensiteexplorer.org/dotbot; help@moz.com)'),
('Mozilla/5.0 (compatible; MJ12bot/v1.4.8; http://mj12bot.com/)'),
('Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)'),
('Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; ClaudeBot/1.0; +claudebot@anthropic.com)'),
('facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)');

-- exclude_list is left empty on purpose.  Each row drops traffic by a
-- case-insensitive substring match of `filter` against one field:
--   type 'ip'        the client address   (e.g. a scanner's address)
--   type 'useragent' the user agent       (e.g. 'gatus', 'detectify')
--   type 'url'       the requested path
--   type 'host'      the resolved host name (clean-bots; '%' is a wildcard)
-- Add rows with:  INSERT INTO exclude_list (filter, type, notes) VALUES ('203.0.113.9', 'ip', 'scanner');
