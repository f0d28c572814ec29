CREATE TABLE `t` (
  id int unsigned NOT NULL AUTO_INCREMENT,
  a int NULL,
  b int NULL,
  PRIMARY KEY (id), KEY kb (b)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
INSERT INTO `t` (id, a, b)
SELECT seq, seq, seq % 10
FROM (SELECT CAST(seq AS SIGNED) AS seq FROM seq_1_to_500) AS s;
