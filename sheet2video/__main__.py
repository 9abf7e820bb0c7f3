from sheet2video.cli import main

main()
