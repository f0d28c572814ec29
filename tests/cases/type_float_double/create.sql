CREATE TABLE `t` (
  id int unsigned NOT NULL AUTO_INCREMENT,
  a float NULL,
  b double NULL,
  c float(10,3) NULL,
  PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
INSERT INTO `t` (id, a, b, c)
SELECT seq, seq / 3e0, IF(seq % 9 = 0, NULL, seq / 7e0 * 1e-300), seq / 11
FROM (SELECT CAST(seq AS SIGNED) AS seq FROM seq_1_to_500) AS s;
