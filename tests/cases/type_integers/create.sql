CREATE TABLE `t` (
  id int unsigned NOT NULL AUTO_INCREMENT,
  a tinyint NULL,
  b smallint unsigned NULL,
  c mediumint NULL,
  d int NULL,
  e bigint unsigned NULL,
  PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
INSERT INTO `t` (id, a, b, c, d, e)
SELECT seq, seq % 256 - 128, seq * 7 % 65536, seq * 1000 - 8388608, IF(seq % 10 = 0, NULL, -seq * 12345), CAST(seq AS UNSIGNED) * 184467440737095
FROM (SELECT CAST(seq AS SIGNED) AS seq FROM seq_1_to_500) AS s;
