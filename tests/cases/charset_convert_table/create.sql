CREATE TABLE `t` (
  id int unsigned NOT NULL AUTO_INCREMENT,
  a varchar(50) NULL,
  b text NULL,
  PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=latin1;
INSERT INTO `t` (id, a, b)
SELECT seq, CONCAT('café ', seq), CONCAT('ß', seq)
FROM (SELECT CAST(seq AS SIGNED) AS seq FROM seq_1_to_500) AS s;
