CREATE TABLE `t` (
  id int unsigned NOT NULL AUTO_INCREMENT,
  a date NULL,
  b time NULL,
  c year NULL,
  PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
INSERT INTO `t` (id, a, b, c)
SELECT seq, '1000-01-01' + INTERVAL seq * 97 DAY, SEC_TO_TIME(seq * 1234 - 300000), 1901 + seq % 255
FROM (SELECT CAST(seq AS SIGNED) AS seq FROM seq_1_to_500) AS s;
