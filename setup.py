"""Package set-up: reads every field from settings.ini (nbdev 2 convention)."""
from configparser import ConfigParser
from setuptools import find_packages, setup

cfg = ConfigParser(delimiters=["="])
cfg.read("settings.ini", encoding="utf-8")
c = cfg["DEFAULT"]
scripts = [s.strip() for s in c.get("console_scripts", "").split() if s.strip()]

setup(
    name=c["lib_name"],
    version=c["version"],
    description=c["description"],
    author=c["author"],
    author_email=c["author_email"],
    license=c["license"],
    keywords=c["keywords"].split(),
    url=c["git_url"],
    classifiers=["Programming Language :: Python :: 3.11", "Topic :: Scientific/Engineering :: Artificial Intelligence"],
    long_description=open("README.md", encoding="utf-8").read() if __import__("os").path.exists("README.md") else "",
    long_description_content_type="text/markdown",
    python_requires=">=" + c["min_python"],
    packages=find_packages(include=[c["lib_path"], c["lib_path"] + ".*"]),
    install_requires=c.get("requirements", "").split(),
    extras_require={"dev": c.get("dev_requirements", "").split()},
    entry_points={"console_scripts": scripts, "nbdev": [f"{c['lib_path']}={c['lib_path']}._modidx:d"]},
    include_package_data=True,
    zip_safe=False,
)
