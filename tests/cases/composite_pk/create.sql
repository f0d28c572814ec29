CREATE TABLE t (a int NOT NULL, b varchar(20) NOT NULL, v int NULL, PRIMARY KEY (a, b)) DEFAULT CHARSET=utf8mb4;
INSERT INTO t SELECT seq % 50, CONCAT('k', seq), seq FROM seq_1_to_1000;
