CREATE TABLE `t` (
  id int unsigned NOT NULL AUTO_INCREMENT,
  a int NULL,
  b varchar(10) NULL,
  c datetime NULL,
  d blob NULL,
  PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
INSERT INTO `t` (id, a, b, c, d)
SELECT seq, NULL, NULL, NULL, NULL
FROM (SELECT CAST(seq AS SIGNED) AS seq FROM seq_1_to_500) AS s;
