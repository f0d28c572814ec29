CREATE TABLE `t` (
  id int unsigned NOT NULL AUTO_INCREMENT,
  a smallint NULL,
  b int NULL,
  PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
INSERT INTO `t` (id, a, b)
SELECT seq, seq - 250, -seq * 70000
FROM (SELECT CAST(seq AS SIGNED) AS seq FROM seq_1_to_500) AS s;
