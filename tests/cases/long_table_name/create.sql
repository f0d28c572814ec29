CREATE TABLE `aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa_long_nam` (
  id int unsigned NOT NULL AUTO_INCREMENT,
  v int NULL,
  PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
INSERT INTO `aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa_long_nam` (id, v)
SELECT seq, seq
FROM (SELECT CAST(seq AS SIGNED) AS seq FROM seq_1_to_300) AS s;
