CREATE TABLE `t` (
  id int unsigned NOT NULL AUTO_INCREMENT,
  a varchar(40) NULL,
  PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
INSERT INTO `t` (id, a)
SELECT seq, MD5(seq)
FROM (SELECT CAST(seq AS SIGNED) AS seq FROM seq_1_to_3000) AS s;
