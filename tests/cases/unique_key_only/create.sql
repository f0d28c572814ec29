CREATE TABLE t (code varchar(20) NOT NULL, v int NULL, UNIQUE KEY uc (code)) DEFAULT CHARSET=utf8mb4;
INSERT INTO t SELECT CONCAT('c', seq), seq FROM seq_1_to_800;
