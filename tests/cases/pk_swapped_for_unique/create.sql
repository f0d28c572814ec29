CREATE TABLE t (id int NOT NULL, code varchar(20) NOT NULL, v int NULL, PRIMARY KEY (id), UNIQUE KEY uc (code)) DEFAULT CHARSET=utf8mb4;
INSERT INTO t SELECT seq, CONCAT('c', seq), seq FROM seq_1_to_800;
