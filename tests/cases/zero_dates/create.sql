CREATE TABLE `t` (
  id int unsigned NOT NULL AUTO_INCREMENT,
  a date NULL,
  b datetime NULL,
  PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
INSERT INTO `t` (id, a, b)
SELECT seq, IF(seq % 3 = 0, '0000-00-00', '2020-01-01' + INTERVAL seq DAY), IF(seq % 4 = 0, '0000-00-00 00:00:00', NULL)
FROM (SELECT CAST(seq AS SIGNED) AS seq FROM seq_1_to_500) AS s;
