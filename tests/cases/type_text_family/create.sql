CREATE TABLE `t` (
  id int unsigned NOT NULL AUTO_INCREMENT,
  a tinytext NULL,
  b text NULL,
  c mediumtext NULL,
  d longtext NULL,
  PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
INSERT INTO `t` (id, a, b, c, d)
SELECT seq, CONCAT('t', seq), REPEAT('lorem ', seq % 100), IF(seq % 4 = 0, NULL, REPEAT('é', seq)), REPEAT(CONCAT(seq, '😀'), 30)
FROM (SELECT CAST(seq AS SIGNED) AS seq FROM seq_1_to_500) AS s;
