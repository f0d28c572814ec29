CREATE TABLE `t` (
  id int unsigned NOT NULL AUTO_INCREMENT,
  a int NULL,
  PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
INSERT INTO `t` (id, a)
SELECT seq, seq
FROM (SELECT CAST(seq AS SIGNED) AS seq FROM seq_1_to_1) AS s;
