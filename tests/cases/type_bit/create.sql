CREATE TABLE `t` (
  id int unsigned NOT NULL AUTO_INCREMENT,
  a bit(1) NULL,
  b bit(10) NULL,
  c bit(64) NULL,
  PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
INSERT INTO `t` (id, a, b, c)
SELECT seq, seq % 2, seq % 1024, CAST(seq AS UNSIGNED) * 1844674407370955
FROM (SELECT CAST(seq AS SIGNED) AS seq FROM seq_1_to_500) AS s;
