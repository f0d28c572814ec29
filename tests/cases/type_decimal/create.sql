CREATE TABLE `t` (
  id int unsigned NOT NULL AUTO_INCREMENT,
  a decimal(12,3) NULL,
  b decimal(65,30) NULL,
  c decimal(5,0) unsigned NULL,
  PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
INSERT INTO `t` (id, a, b, c)
SELECT seq, seq / 7 * IF(seq % 2, 1, -1), seq / 3, seq % 99999
FROM (SELECT CAST(seq AS SIGNED) AS seq FROM seq_1_to_500) AS s;
