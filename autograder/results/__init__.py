"""What a grading run hands back: the rows read from the gradebook (rows.py), grades.csv
(grades_csv.py) and the class report (report.py, templates/report.html.j2)."""
